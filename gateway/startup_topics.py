"""`ottla serve --topic NAME[:PARTITIONS[:key=value,...]]`: topics created at start-up when missing.

PARTITIONS may be left out or empty (the broker's default partition count). A config value may hold
commas (cleanup.policy=compact,delete): a piece without '=' continues the value before it. A topic
that already exists is left as it is; a spec Kafka would refuse (bad name, partitions, config) stops
the broker from starting, with Kafka's message.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

from wire.errors import KafkaError


class TopicSpec(NamedTuple):
    name: str
    partitions: int  # -1: the broker's default
    configs: tuple[tuple[str, str], ...]


def parse_topic_spec(text: str) -> TopicSpec:
    """argparse `type=`: raises ArgumentTypeError for a spec that cannot be read."""
    name, _, rest = text.partition(":")
    count, _, config_text = rest.partition(":")
    if not name:
        raise argparse.ArgumentTypeError(f"--topic {text!r}: no topic name")
    try:
        partitions = int(count) if count else -1
    except ValueError:
        raise argparse.ArgumentTypeError(f"--topic {text!r}: partitions must be a number, not {count!r}") from None
    configs: list[list[str]] = []
    for piece in config_text.split(",") if config_text else []:
        key, sep, value = piece.partition("=")
        if sep:
            configs.append([key.strip(), value])
        elif configs:
            configs[-1][1] += "," + piece
        else:
            raise argparse.ArgumentTypeError(f"--topic {text!r}: configs are key=value, not {piece!r}")
    return TopicSpec(name, partitions, tuple((k, v) for k, v in configs))


def create_startup_topics(broker, specs, log) -> None:
    """Create each missing topic; SystemExit with Kafka's reason when one cannot be created."""
    for spec in specs:
        if broker.logs.get(spec.name) is not None:
            log.info("startup_topic_exists", topic=spec.name)
            continue
        try:
            topic = broker.logs.create_topic(spec.name, spec.partitions, dict(spec.configs))
        except KafkaError as exc:
            raise SystemExit(f"ottla: --topic {spec.name}: {exc.code.name}: {exc.message}") from None
        log.info("startup_topic_created", topic=spec.name, partitions=len(topic.partitions),
                 configs=dict(spec.configs))
