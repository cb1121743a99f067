"""Structured logging: one event per line, saying what happened to whom.

`--log-format`: console (structlog's ConsoleRenderer, colour when stderr is a TTY), json (one JSON
object a line: timestamp, level, event and the fields), kv (key=value, greppable), auto (console on a
TTY, else kv: what a log file or a test's pipe has always had).
"""

from __future__ import annotations

import logging
import sys

import structlog


# Kafka's log4j levels (BROKER_LOGGER resources) and the Python levels they stand for.
LOG4J_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
                "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}
_NAMES = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "warn": logging.WARNING,
          "error": logging.ERROR, "critical": logging.CRITICAL, "exception": logging.ERROR}
ROOT_LOGGER = "root"
_level = {ROOT_LOGGER: "INFO", "threshold": logging.INFO}  # changed at runtime by set_level


def root_level() -> str:
    return _level[ROOT_LOGGER]


def set_level(log4j_level: str) -> None:
    """Change the broker's log level at once (IncrementalAlterConfigs on a BROKER_LOGGER resource)."""
    _level[ROOT_LOGGER] = log4j_level
    _level["threshold"] = LOG4J_LEVELS[log4j_level]


def _below_level(logger, method_name: str, event_dict):
    if _NAMES.get(method_name, logging.INFO) < _level["threshold"]:
        raise structlog.DropEvent
    return event_dict


LOG_FORMATS = ("auto", "console", "json", "kv")


def _renderer(log_format: str, stream):
    tty = hasattr(stream, "isatty") and stream.isatty()
    if log_format == "auto":
        log_format = "console" if tty else "kv"
    if log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=tty, exception_formatter=structlog.dev.plain_traceback)
    if log_format == "json":
        return structlog.processors.JSONRenderer(default=repr)
    if log_format == "kv":
        return structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"], drop_missing=True)
    raise ValueError(f"unknown log format {log_format!r} (one of {', '.join(LOG_FORMATS)})")


def configure(level: str = "info", log_format: str = "auto", stream=None) -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    stream = sys.stderr if stream is None else stream
    renderer = _renderer(log_format, stream)
    set_level({logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN", logging.ERROR: "ERROR",
               logging.CRITICAL: "FATAL"}.get(numeric, "INFO"))
    structlog.configure(
        processors=[
            _below_level,  # the level may change at runtime, so the filtering wrapper lets everything through
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *(() if isinstance(renderer, structlog.dev.ConsoleRenderer) else (structlog.processors.format_exc_info,)),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
