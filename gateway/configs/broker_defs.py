"""The broker configs Ottla has or accepts, as Kafka's KafkaConfig defines them (names, types, defaults,
validators), with whether each may be changed at runtime (Kafka's DynamicBrokerConfig) and what Ottla
does with it.

`dynamic` is Kafka's update mode: "cluster-wide" (per broker or the cluster default, resource name ""),
"per-broker" (a broker id only), or None (read-only: set in server.properties / --set, not at runtime).
`ignored` says why Ottla accepts a config without acting on it; None: Ottla acts on it. Every broker
config that is a topic config's server default (log.retention.ms ...) comes from the topic table, so
the two tables cannot disagree; a dynamic change of one reaches every topic at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from partitions.config_def import (
    INT32_MAX,
    INT64_MAX,
    ConfigKey,
    ConfigType,
    at_least,
    between,
    each_one_of,
    invalid,
    one_of_ignoring_case,
)
from partitions.topic_configs import HOUR_MS, MIB, TOPIC_CONFIGS

CLUSTER_WIDE, PER_BROKER = "cluster-wide", "per-broker"
NO_THREADS = "Ottla serves every request on one event loop"
SINGLE_BROKER = "one broker, one replica"
NOT_YET = "not yet acted on"


@dataclass(frozen=True)
class BrokerConfigKey(ConfigKey):
    """A broker config: its Kafka definition, update mode and what Ottla ignores."""

    dynamic: str | None = None
    ignored: str | None = None
    topic_config: str | None = None  # the topic config this broker config supplies the default of


_L, _I, _S, _B, _D, _LIST, _P, _C = (ConfigType.LONG, ConfigType.INT, ConfigType.STRING, ConfigType.BOOLEAN,
                                     ConfigType.DOUBLE, ConfigType.LIST, ConfigType.PASSWORD, ConfigType.CLASS)


def per_ip_overrides(text: str | None) -> dict[str, int]:
    """max.connections.per.ip.overrides ("127.0.0.1:200,host:5") as {address: cap}."""
    overrides = {}
    for item in (text or "").split(","):
        if item.strip():
            address, _, count = item.strip().rpartition(":")
            overrides[address.strip()] = int(count)
    return overrides


def _overrides(name: str, value: str) -> None:
    try:
        if all(address for address in per_ip_overrides(value)):
            return
    except ValueError:
        pass
    raise invalid(name, value, "Expected a comma separated list of address:count")


def _b(name, config_type, default, doc, validator=None, dynamic=None, ignored=None, sensitive=False):
    return BrokerConfigKey(name, config_type, default, doc, validator, sensitive, dynamic=dynamic, ignored=ignored)


# The broker-side names of topic configs, with their own types and defaults where they differ from the
# topic's (hours instead of milliseconds, or no default so that a lower-priority synonym applies).
_SYNONYM_OVERRIDES = {
    "log.retention.ms": (_L, None, None),
    "log.retention.minutes": (_I, None, None),
    "log.retention.hours": (_I, 168, None),
    "log.roll.ms": (_L, None, None),
    "log.roll.hours": (_I, 168, at_least(1)),
    "log.roll.jitter.ms": (_L, None, None),
    "log.roll.jitter.hours": (_I, 0, at_least(0)),
    "log.flush.interval.ms": (_L, None, None),
    "log.flush.scheduler.interval.ms": (_L, INT64_MAX, None),
}


def _topic_synonyms() -> list[BrokerConfigKey]:
    keys = []
    for topic_name, topic_key in TOPIC_CONFIGS.items():
        for position, synonym in enumerate(topic_key.synonyms):
            config_type, default, validator = _SYNONYM_OVERRIDES.get(
                synonym.name, (topic_key.type, topic_key.default, topic_key.validator))
            # Kafka lets only each topic config's first synonym change at runtime (DynamicLogConfig)
            dynamic = CLUSTER_WIDE if position == 0 else None
            doc = f"The default of topic config {topic_name}" + (
                f", in units of {synonym.factor} ms" if synonym.factor != 1 else "") + f": {topic_key.doc}"
            keys.append(BrokerConfigKey(synonym.name, config_type, default, doc, validator, dynamic=dynamic,
                                        ignored=topic_key.ignored, topic_config=topic_name))
    return keys


_OWN = [
    # identity and listeners
    _b("node.id", _I, -1, "This node's id (Ottla: --node-id)."),
    _b("broker.id", _I, -1, "The broker id; equal to node.id in KRaft mode."),
    _b("process.roles", _LIST, ["broker", "controller"], "The roles this node plays: Ottla is always both.",
       each_one_of("broker", "controller")),
    _b("listeners", _LIST, ["PLAINTEXT://:9092"], "The address the broker listens on (Ottla: --host/--port)."),
    _b("advertised.listeners", _LIST, None, "The address clients are told to connect to (Ottla: "
       "--advertised-host/--advertised-port)."),
    _b("listener.security.protocol.map", _S, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,"
       "SASL_SSL:SASL_SSL", "Listener names to security protocols (Ottla: gateway/listeners.py)."),
    _b("inter.broker.listener.name", _S, None, "The listener brokers talk to each other on.",
       ignored=SINGLE_BROKER),
    _b("controller.listener.names", _S, None, "The listeners the controller uses.", ignored=SINGLE_BROKER),
    _b("controller.quorum.voters", _LIST, [], "The controller quorum's voters.", ignored=SINGLE_BROKER),
    _b("broker.rack", _S, None, "The broker's rack.", ignored=SINGLE_BROKER),
    # storage and topics
    _b("log.dirs", _S, None, "The directory the broker keeps its data in (Ottla: --data-dir)."),
    _b("log.dir", _S, "/tmp/kafka-logs", "The data directory when log.dirs is not set."),
    _b("num.partitions", _I, 1, "The partition count of topics created without one.", at_least(1)),
    _b("auto.create.topics.enable", _B, True, "Create a topic when a client asks for metadata of, or produces "
       "to, a topic that does not exist."),
    _b("default.replication.factor", _I, 1, "The replication factor of automatically created topics (capped at "
       "the cluster's broker count, --brokers)."),
    _b("delete.topic.enable", _B, True, "Allow topics to be deleted.", ignored="topics can always be deleted"),
    _b("log.cleaner.enable", _B, True, "Run the log cleaner (compaction).", ignored=NOT_YET),
    _b("log.cleaner.threads", _I, 1, "The number of log cleaner threads.", at_least(0), CLUSTER_WIDE, NO_THREADS),
    _b("log.cleaner.backoff.ms", _L, 15000, "How long the cleaner sleeps when there is nothing to clean.",
       at_least(0), CLUSTER_WIDE, "read at start-up (--log-cleaner-backoff-ms); a runtime change is stored, not "
       "yet acted on"),
    _b("log.cleaner.dedupe.buffer.size", _L, 128 * MIB, "The memory the cleaner uses to deduplicate keys.",
       None, CLUSTER_WIDE, NOT_YET),
    _b("log.cleaner.io.buffer.size", _I, 512 * 1024, "The cleaner's I/O buffer size.", at_least(0),
       CLUSTER_WIDE, NOT_YET),
    _b("log.cleaner.io.max.bytes.per.second", _D, 1.7976931348623157e308, "The cleaner's I/O throttle.",
       None, CLUSTER_WIDE, NOT_YET),
    _b("log.retention.check.interval.ms", _L, 300_000, "How often the broker checks for data to delete.",
       at_least(1)),
    # requests and connections
    _b("socket.request.max.bytes", _I, 100 * MIB, "The largest request the broker reads (Ottla: "
       "--max-request-size).", at_least(1)),
    _b("socket.send.buffer.bytes", _I, 100 * 1024, "The SO_SNDBUF of the broker's sockets (-1: the OS's).",
       ignored="the operating system's default is used"),
    _b("socket.receive.buffer.bytes", _I, 100 * 1024, "The SO_RCVBUF of the broker's listening sockets, which "
       "accepted connections inherit (-1: the OS's, autotuned)."),
    _b("connections.max.idle.ms", _L, 600_000, "Close connections idle for longer than this."),
    _b("max.connections", _I, INT32_MAX, "The most connections the broker accepts (held below the fd limit).",
       at_least(0), CLUSTER_WIDE),
    _b("max.connections.per.ip", _I, INT32_MAX, "The most connections from one address.", at_least(0),
       CLUSTER_WIDE),
    _b("max.connections.per.ip.overrides", _S, "", "Per-address exceptions to max.connections.per.ip: "
       "address:count,address:count.", _overrides, CLUSTER_WIDE),
    _b("max.connection.creation.rate", _I, INT32_MAX, "The most new connections per second.", at_least(0),
       CLUSTER_WIDE, NOT_YET),
    _b("queued.max.requests", _I, 500, "The most requests queued before reading stops.", at_least(1)),
    _b("queued.max.request.bytes", _L, -1, "The most request bytes queued broker-wide before reading stops "
       "(-1: no limit; Ottla's default is 512 MiB)."),
    _b("num.network.threads", _I, 3, "The number of network threads.", at_least(1), CLUSTER_WIDE, NO_THREADS),
    _b("num.io.threads", _I, 8, "The number of request handler threads.", at_least(1), CLUSTER_WIDE, NO_THREADS),
    _b("background.threads", _I, 10, "The number of background threads.", at_least(1), CLUSTER_WIDE, NO_THREADS),
    _b("replica.lag.time.max.ms", _L, 30000, "How long a follower may fail to catch up before it leaves the ISR "
       "(a --brokers N cluster: a paused follower holding up an acks=all produce).", at_least(1)),
    _b("broker.session.timeout.ms", _I, 9000, "How long a broker may go without heartbeating the controller "
       "before it is fenced (a --brokers N cluster: a paused broker leaves every ISR and leads nothing).",
       at_least(1)),
    _b("num.replica.fetchers", _I, 1, "The number of replica fetcher threads.", None, CLUSTER_WIDE,
       SINGLE_BROKER),
    _b("num.recovery.threads.per.data.dir", _I, 2, "Threads per data directory for log recovery.", at_least(1),
       CLUSTER_WIDE, NO_THREADS),
    _b("fetch.max.bytes", _I, 55 * MIB, "The most bytes a Fetch returns.", at_least(1024)),
    _b("max.incremental.fetch.session.cache.slots", _I, 1000, "The most incremental fetch sessions kept.",
       at_least(0)),
    _b("metric.reporters", _LIST, [], "Classes that receive the broker's metrics.", None, CLUSTER_WIDE,
       "Ottla has no metrics plugins"),
    _b("telemetry.max.bytes", _I, MIB, "The largest client telemetry push accepted (KIP-714).", at_least(1)),
    # consumer groups (classic)
    _b("group.initial.rebalance.delay.ms", _I, 3000, "How long a new classic group waits for more members "
       "before its first rebalance."),
    _b("group.min.session.timeout.ms", _I, 6000, "The shortest session timeout a classic member may ask for."),
    _b("group.max.session.timeout.ms", _I, 1_800_000, "The longest session timeout a classic member may ask "
       "for."),
    _b("group.max.size", _I, INT32_MAX, "The most members a group may have.", at_least(1)),
    _b("offset.metadata.max.bytes", _I, 4096, "The largest metadata string an offset commit may carry."),
    _b("offsets.retention.minutes", _I, 7 * 24 * 60, "How long the committed offsets of an empty group are "
       "kept.", at_least(1)),
    _b("offsets.retention.check.interval.ms", _L, 600_000, "How often stale offsets are looked for.",
       at_least(1)),
    _b("offsets.topic.num.partitions", _I, 50, "The partition count of __consumer_offsets.", at_least(1)),
    _b("offsets.topic.replication.factor", _I, 3, "The replication factor of __consumer_offsets (capped at the "
       "cluster's broker count).", at_least(1)),
    _b("group.coordinator.rebalance.protocols", _LIST, ["classic", "consumer"], "The group protocols the "
       "coordinator serves.", each_one_of("classic", "consumer", "share", "streams")),
    # consumer groups (KIP-848)
    _b("group.consumer.session.timeout.ms", _I, 45000, "The session timeout of consumer-protocol groups' "
       "members (Ottla: --group-consumer-session-timeout-ms).", at_least(1)),
    _b("group.consumer.min.session.timeout.ms", _I, 45000, "The shortest consumer.session.timeout.ms a group "
       "may set.", at_least(1)),
    _b("group.consumer.max.session.timeout.ms", _I, 60000, "The longest consumer.session.timeout.ms a group "
       "may set.", at_least(1)),
    _b("group.consumer.heartbeat.interval.ms", _I, 5000, "The heartbeat interval of consumer-protocol groups' "
       "members (Ottla: --group-consumer-heartbeat-interval-ms).", at_least(1)),
    _b("group.consumer.min.heartbeat.interval.ms", _I, 5000, "The shortest consumer.heartbeat.interval.ms a "
       "group may set.", at_least(1)),
    _b("group.consumer.max.heartbeat.interval.ms", _I, 15000, "The longest consumer.heartbeat.interval.ms a "
       "group may set.", at_least(1)),
    _b("group.consumer.assignors", _LIST, ["uniform", "range"], "The server-side assignors, the first being the "
       "default."),
    _b("group.consumer.max.size", _I, INT32_MAX, "The most members a consumer-protocol group may have.",
       at_least(1), None, NOT_YET),
    # share groups (KIP-932)
    _b("group.share.session.timeout.ms", _I, 45000, "The session timeout of share groups' members.",
       at_least(1)),
    _b("group.share.min.session.timeout.ms", _I, 45000, "The shortest share.session.timeout.ms a group may set.",
       at_least(1)),
    _b("group.share.max.session.timeout.ms", _I, 60000, "The longest share.session.timeout.ms a group may set.",
       at_least(1)),
    _b("group.share.heartbeat.interval.ms", _I, 5000, "The heartbeat interval of share groups' members.",
       at_least(1)),
    _b("group.share.min.heartbeat.interval.ms", _I, 5000, "The shortest share.heartbeat.interval.ms a group "
       "may set.", at_least(1)),
    _b("group.share.max.heartbeat.interval.ms", _I, 15000, "The longest share.heartbeat.interval.ms a group may "
       "set.", at_least(1)),
    _b("group.share.record.lock.duration.ms", _I, 30000, "How long a share consumer holds the records it "
       "fetched.", between(1000, HOUR_MS)),
    _b("group.share.min.record.lock.duration.ms", _I, 15000, "The shortest share.record.lock.duration.ms a "
       "group may set.", between(1000, 30000)),
    _b("group.share.max.record.lock.duration.ms", _I, 60000, "The longest share.record.lock.duration.ms a "
       "group may set.", between(30000, HOUR_MS)),
    _b("group.share.delivery.count.limit", _I, 5, "How often a record is delivered to share consumers before "
       "it is archived.", between(2, 10)),
    _b("group.share.partition.max.record.locks", _I, 2000, "The most records in flight per share partition.",
       between(100, 10000)),
    _b("group.share.max.share.sessions", _I, 2000, "The most share sessions the broker keeps.", at_least(1)),
    _b("group.share.max.size", _I, 200, "The most members a share group may have.", between(1, 1000)),
    _b("errors.deadletterqueue.topic.name.prefix", _S, "dlq.", "The prefix every share group dead-letter topic "
       "name must have (KIP-1191)."),
    _b("errors.deadletterqueue.auto.create.topics.enable", _B, False, "Create a share group's dead-letter topic "
       "when it does not exist (KIP-1191)."),
    # transactions and producers
    _b("transaction.max.timeout.ms", _I, 900_000, "The longest transaction timeout a producer may ask for.",
       at_least(1)),
    _b("transactional.id.expiration.ms", _I, 7 * 24 * HOUR_MS, "How long an unused transactional id is kept.",
       at_least(1)),
    _b("transaction.abort.timed.out.transaction.cleanup.interval.ms", _I, 10_000, "How often transactions past "
       "their timeout are aborted.", at_least(1)),
    _b("transaction.state.log.num.partitions", _I, 50, "The partition count of __transaction_state.",
       at_least(1)),
    _b("transaction.state.log.replication.factor", _I, 3, "The replication factor of __transaction_state (capped "
       "at the cluster's broker count).", at_least(1)),
    _b("producer.id.expiration.ms", _I, 86_400_000, "How long an idle producer's sequence state is kept.",
       at_least(1), CLUSTER_WIDE, NOT_YET),
    _b("transaction.partition.verification.enable", _B, True, "Verify that a transactional write's partition "
       "is in the transaction (KIP-890).", None, CLUSTER_WIDE, NOT_YET),
    # security (gateway/security/): authentication; authorization (the authorizer) below
    _b("sasl.enabled.mechanisms", _LIST, ["GSSAPI"], "The SASL mechanisms the broker offers (Ottla: PLAIN, "
       "SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER; all four unless set)."),
    _b("connections.max.reauth.ms", _L, 0, "KIP-368: a SASL session's lifetime, after which the client must "
       "re-authenticate (0: never)."),
    _b("ssl.client.auth", _S, "none", "Whether SSL listeners request or require a client certificate (Ottla: "
       "--ssl-client-auth).", one_of_ignoring_case("required", "requested", "none")),
    _b("ssl.principal.mapping.rules", _S, "DEFAULT", "How a client certificate's subject becomes the principal "
       "(Ottla: DEFAULT only, the subject's distinguished name).", ignored="only DEFAULT"),
    _b("sasl.mechanism.inter.broker.protocol", _S, "GSSAPI", "The SASL mechanism brokers use with each other.",
       ignored=SINGLE_BROKER),
    _b("super.users", _S, None, "Principals allowed everything (semicolon-separated)."),
    _b("authorizer.class.name", _S, "", "The authorizer: any class name turns Ottla's StandardAuthorizer on."),
    _b("allow.everyone.if.no.acl.found", _B, False, "Allow everyone on a resource that no ACL covers."),
    _b("quota.window.num", _I, 11, "The number of samples client quotas are measured over.", at_least(1)),
    _b("quota.window.size.seconds", _I, 1, "The time span of each client-quota sample.", at_least(1)),
    _b("ssl.keystore.password", _P, None, "The keystore password.", ignored="no TLS yet", sensitive=True),
    _b("create.topic.policy.class.name", _C, None, "A policy that vets CreateTopics.", ignored="no policies"),
    _b("alter.config.policy.class.name", _C, None, "A policy that vets AlterConfigs.", ignored="no policies"),
    _b("log4j.root.loglevel", _S, "INFO", "The broker's root log level (BROKER_LOGGER resources change it at "
       "runtime).", one_of_ignoring_case("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF")),
    _b("unstable.api.versions.enable", _B, False, "Advertise API versions that are not yet stable.",
       ignored="only stable versions are served"),
    _b("unstable.feature.versions.enable", _B, False, "Allow feature versions that are not yet stable.",
       ignored="only stable versions are served"),
]

BROKER_CONFIGS: dict[str, BrokerConfigKey] = {k.name: k for k in sorted(_OWN + _topic_synonyms(),
                                                                       key=lambda k: k.name)}

# Kafka's brokerConfigSynonyms: the broker configs that describe one setting, in priority order.
BROKER_SYNONYMS: dict[str, tuple[str, ...]] = {}
for _topic_key in TOPIC_CONFIGS.values():
    _names = tuple(s.name for s in _topic_key.synonyms)
    if len(_names) > 1:
        for _name in _names:
            BROKER_SYNONYMS[_name] = _names
BROKER_SYNONYMS["log.flush.interval.ms"] = ("log.flush.interval.ms", "log.flush.scheduler.interval.ms")
BROKER_SYNONYMS.pop("log.flush.scheduler.interval.ms", None)


def broker_synonyms(name: str) -> tuple[str, ...]:
    return BROKER_SYNONYMS.get(name, (name,))
