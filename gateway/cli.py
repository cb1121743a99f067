"""The `ottla` command line: `ottla serve` (the broker) and `ottla <noun> <verb>` (the tools, gateway/tools/).

Only `serve` loads the broker's config machinery; a tool's command line is parsed without it, so
`ottla topics list` pays for argparse, its noun module and the Kafka client, nothing more.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import weakref

DESCRIPTION = "A Kafka-compatible broker (ottla serve) and the tools to use any Kafka cluster (ottla <noun> <verb>)."


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns (COLUMNS, else stdout's terminal, else 80) without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, its width found as argparse finds it but without `import shutil` (which imports zlib, bz2
    and lzma: about 3 ms of `ottla serve`'s start-up, as every add_argument builds a formatter to check metavars)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)

    class _Section(argparse.HelpFormatter._Section):
        """argparse's, holding its formatter weakly: formatter and root section are then no reference cycle, so the
        formatter each add_argument makes (to check the metavar) is freed at once, not left to the cyclic GC
        (which `ottla serve` holds back during start-up: gateway/startup_gc.py)."""

        def __init__(self, formatter, parent, heading=None):
            super().__init__(weakref.proxy(formatter), parent, heading)


def parser(tools: bool = True) -> argparse.ArgumentParser:
    """The whole command line; tools=False leaves out the tool nouns (the serve path)."""
    p = argparse.ArgumentParser(prog="ottla", description=DESCRIPTION, formatter_class=HelpFormatter)
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    if tools:
        from gateway.tools import register_all

        register_all(commands)
    return p


def _tools_parser(noun: str | None = None) -> argparse.ArgumentParser:
    """The tools' command line with `serve` as a name only (its flags need the broker's Config); given the noun
    the command line names, only that noun's module (an unknown one: all, so argparse lists the choices)."""
    from gateway.tools import register_all, register_noun

    p = argparse.ArgumentParser(prog="ottla", description=DESCRIPTION)
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run a broker")
    if noun is None or not register_noun(commands, noun):
        register_all(commands)
    return p


def _add_serve(commands) -> None:
    from gateway.config import Config
    from gateway.startup_topics import parse_topic_spec

    serve = commands.add_parser("serve", help="run a broker", formatter_class=HelpFormatter)
    serve.add_argument("--config", metavar="FILE", help="Kafka-style server.properties (key=value, Kafka's names)")
    serve.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                       help="one broker config by Kafka's name, overriding --config and flags (repeatable)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9092)
    serve.add_argument("--data-dir", default="./data")
    serve.add_argument("--memory", action="store_true", help="keep everything in memory (no RocksDB)")
    serve.add_argument("--advertised-host")
    serve.add_argument("--advertised-port", type=int)
    serve.add_argument("--node-id", type=int, default=1)
    serve.add_argument("--brokers", type=int, default=1, metavar="N",
                       help="run a cluster of N brokers (node ids 1..N) on ports --port .. --port+N-1")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--max-request-size", type=int, default=Config.max_request_size)
    serve.add_argument("--no-auto-create-topics", dest="auto_create_topics", action="store_false")
    serve.add_argument("--default-partitions", type=int, default=1)
    serve.add_argument("--topic", dest="topics", action="append", type=parse_topic_spec, default=[],
                       metavar="NAME[:PARTITIONS[:key=value,...]]", help="create this topic at start-up if missing "
                       "(repeatable)")
    serve.add_argument("--group-initial-rebalance-delay-ms", type=int, default=0)
    serve.add_argument("--group-min-session-timeout-ms", type=int, default=Config.group_min_session_timeout_ms)
    serve.add_argument("--group-consumer-session-timeout-ms", type=int,
                       default=Config.group_consumer_session_timeout_ms, help="KIP-848 groups' session timeout")
    serve.add_argument("--group-consumer-heartbeat-interval-ms", type=int,
                       default=Config.group_consumer_heartbeat_interval_ms)
    serve.add_argument("--group-max-size", type=int, default=Config.group_max_size,
                       help="members per group (Kafka's group.max.size and group.consumer.max.size)")
    serve.add_argument("--offset-metadata-max-bytes", type=int, default=Config.offset_metadata_max_bytes)
    serve.add_argument("--transaction-max-timeout-ms", type=int, default=Config.transaction_max_timeout_ms)
    serve.add_argument("--transaction-abort-timed-out-transaction-cleanup-interval-ms", type=int,
                       default=Config.transaction_abort_timed_out_transaction_cleanup_interval_ms,
                       help="how often timed-out transactions are looked for and aborted")
    serve.add_argument("--transactional-id-expiration-ms", type=int, default=Config.transactional_id_expiration_ms)
    serve.add_argument("--http-port", type=int, help="serve the web console, /metrics and the HTTP control API "
                       "here, on --host (off by default; no authentication: keep it on loopback)")
    serve.add_argument("--admin-port", dest="http_port", type=int, help="an alias of --http-port (the old admin "
                       "endpoint, POST /share-groups/replay-dlq, is served there)")
    serve.add_argument("--no-http-metrics", dest="http_metrics", action="store_false",
                       help="with --http-port, do not count requests and bytes (/metrics keeps the gauges read "
                       "at scrape time: offsets, lag, connections, storage)")
    serve.add_argument("--log-format", choices=("auto", "console", "json", "kv"), default="auto",
                       help="console: structlog's renderer (colour on a TTY); json: one JSON object a line; "
                       "kv: key=value; auto: console on a TTY, else kv")
    serve.add_argument("--faults", metavar="FILE", help="inject these faults from start-up: a JSON list of fault "
                       "specs as POST /v1/faults takes them (README: Testing with Ottla)")
    serve.add_argument("--authorizer", action="store_true", help="enforce ACLs (Kafka's authorizer.class.name)")
    serve.add_argument("--super-user", dest="super_users", action="append", default=[], metavar="User:NAME",
                       help="a principal allowed everything (repeatable; Kafka's super.users)")
    serve.add_argument("--allow-everyone-if-no-acl-found", action="store_true",
                       help="a resource no ACL covers is open to all (Kafka's allow.everyone.if.no.acl.found)")
    serve.add_argument("--trace", metavar="FILE", help="write one JSON line per request and response to FILE "
                       "(README: Protocol trace and compatibility report); off by default")
    serve.add_argument("--trace-max-bytes", type=int, default=Config.trace_max_bytes, help="past this size the "
                       "trace is renamed FILE.1 (replacing an older one) and a new FILE begins (default %(default)s)")
    serve.add_argument("--client-report", action="store_true", help="build the per-client compatibility report "
                       "live (GET /v1/clients, `ottla report --control`; needs --http-port): every request is "
                       "observed, ~20-30 us each; --trace FILE builds it too")
    from gateway.security.flags import add_security_flags

    add_security_flags(serve)
    serve.add_argument("--crash-at", help=argparse.SUPPRESS)  # tests only: see gateway.txn.markers
    limits = serve.add_argument_group("connection limits (ARCHITECTURE.md, Resource model)")
    for name, help_text in (
        ("queued_max_request_bytes", "broker-wide bytes of requests and unsent responses held (<= 0: unbounded)"),
        ("max_unsent_bytes_per_connection", "a connection stops being read while more response bytes are unsent"),
        ("fetch_max_bytes", "the most one Fetch response gathers (Kafka's fetch.max.bytes)"),
        ("max_in_flight_per_connection", "a connection stops being read with this many requests unanswered"),
        ("connections_max_idle_ms", "close connections idle this long (<= 0: never)"),
        ("request_receive_timeout_ms", "close a connection whose request takes longer to arrive (<= 0: never)"),
        ("request_stall_timeout_ms", "while others wait for memory, close a connection whose half-sent request "
                                     "made no progress for this long (<= 0: never)"),
        ("max_connections", "refuse connections beyond this many (also held below the fd limit)"),
        ("max_connections_per_ip", "refuse connections beyond this many from one address"),
    ):
        limits.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(Config, name),
                            help=help_text + " (default %(default)s)")
    serve.add_argument("--log-retention-check-interval-ms", type=int, default=Config.log_retention_check_interval_ms)
    serve.add_argument("--log-cleaner-backoff-ms", type=int, default=Config.log_cleaner_backoff_ms)
    serve.add_argument("--max-incremental-fetch-session-cache-slots", type=int,
                       default=Config.max_incremental_fetch_session_cache_slots)


def main(argv: list[str] | None = None) -> int:
    from gateway.deferred_imports import defer_unused

    defer_unused()  # before anything imports construct: pdb and hashlib run on first use, if ever
    if "_ARGCOMPLETE" in os.environ:  # a shell asking for completions (gateway/tools/completion.py)
        import argcomplete

        argcomplete.autocomplete(parser(tools=True))
    argv = sys.argv[1:] if argv is None else argv
    first = next((a for a in argv if not a.startswith("-")), None)
    if first == "serve" or first is None:
        from gateway import startup_gc
        from gateway.generated_code import install

        startup_gc.hold()  # until Server.start has frozen what start-up loaded (gateway/startup_gc.py)
        from gateway.c_datetime import install as datetime_from_c

        datetime_from_c()  # datetime.py's pure-Python half not run (gateway/c_datetime.py)

        install()  # before the broker's dataclasses are made: their generated methods' code kept, not compiled again
        try:
            whole = parser(tools=first is None)
            return _serve(whole.parse_args(argv), argv, whole)
        finally:
            startup_gc.release()  # a start that failed (or a caller in-process) gets it back too
    args = _tools_parser(first).parse_args(argv)
    from gateway.tools._main import run_verb

    return run_verb(args)


def _serve(args: argparse.Namespace, argv: list[str], whole: argparse.ArgumentParser | None = None) -> int:
    from gateway.configs.properties import PropertiesError

    try:
        config = serve_config(args, argv, whole)
        if config.faults:
            from gateway.faults import FaultSet, load_faults_file

            for spec in load_faults_file(config.faults):
                FaultSet().add(spec)  # refused here, before the broker starts, if any is bad
        if config.trace:
            if config.trace_max_bytes < 1024:
                raise ValueError(f"--trace-max-bytes must be at least 1024, not {config.trace_max_bytes}")
            open(config.trace, "a").close()  # an unwritable path is refused before the broker starts
        if config.client_report and config.http_port is None:
            raise ValueError("--client-report needs --http-port (the report is served at /v1/clients)")
    except (PropertiesError, OSError, ValueError) as exc:
        parser(tools=False).exit(2, f"ottla: {exc}\n")
    from gateway.no_tls import install as without_tls

    without_tls(config)  # before asyncio is imported: no TLS listener, no OpenSSL (gateway/no_tls.py)
    from gateway.logs import configure
    from gateway.server import run

    configure(config.log_level, config.log_format)
    try:
        run(config)
    except OSError as exc:  # a port in use or not ours to bind: one line, as Kafka's "Socket server failed to bind"
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        print(f"ottla: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def serve_config(args: argparse.Namespace, argv: list[str] | None, whole: argparse.ArgumentParser | None = None):
    """The broker's Config: Ottla's defaults < the --config file < flags given < --set. `whole`: the parser that
    parsed `args`, to tell given flags with (spares building it again: ~1 ms of start-up); its defaults are kept."""
    from gateway.config import Config
    from gateway.configs.properties import check_static, config_fields, parse_set, read_properties
    from gateway.security.flags import finish_fields

    fields = {k: v for k, v in vars(args).items() if k not in ("command", "config", "set")}
    given = _given_flags(argv, whole)
    file_props = read_properties(open(args.config, encoding="utf-8").read()) if args.config else {}
    set_props = parse_set(args.set)
    fields.update({k: v for k, v in config_fields(file_props).items() if k not in given})
    fields.update(config_fields(set_props))
    finish_fields(fields, given)
    properties = {**file_props, **set_props}
    check_static(properties)
    return Config(**fields, properties=tuple(sorted(properties.items())))


def _given_flags(argv: list[str] | None, whole: argparse.ArgumentParser | None = None) -> set[str]:
    """The serve flags given on the command line (not defaulted): argv parsed again with every default
    suppressed, by `whole` (its defaults are put back after) or a parser built for this."""
    p = parser(tools=False) if whole is None else whole
    serve = p._subparsers._group_actions[0].choices["serve"]
    defaults = [(action, action.default) for action in serve._actions]
    try:
        for action, _ in defaults:
            action.default = argparse.SUPPRESS
        return set(vars(p.parse_args(argv)))
    finally:
        for action, default in defaults:
            action.default = default
