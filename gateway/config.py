"""The broker's settings, frozen once the command line is read."""

from __future__ import annotations

from dataclasses import dataclass

from wire.frames import DEFAULT_MAX_REQUEST_SIZE


# (its docstring also spares @dataclass an inspect.signature() of 58 fields for __doc__: 0.3 ms of start-up)
@dataclass(frozen=True)
class Config:
    """Every setting of one broker process (gateway.cli.serve_config builds it from the command line)."""
    host: str = "127.0.0.1"
    port: int = 9092
    data_dir: str = "./data"
    memory: bool = False  # no RocksDB: everything lives in memory and dies with the process
    advertised_host: str | None = None
    advertised_port: int | None = None
    node_id: int = 1
    brokers: int = 1  # --brokers N: a cluster of N brokers (node ids 1..N, ports port..port+N-1), gateway/cluster.py
    log_level: str = "info"
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    auto_create_topics: bool = True
    default_partitions: int = 1
    topics: tuple = ()  # gateway.startup_topics.TopicSpec: --topic, created at start-up when missing
    group_initial_rebalance_delay_ms: int = 0  # Kafka's default is 3000; a dev broker wants speed
    group_min_session_timeout_ms: int = 6000
    group_max_session_timeout_ms: int = 1800000
    offsets_retention_minutes: int = 7 * 24 * 60
    group_consumer_session_timeout_ms: int = 45000  # KIP-848 groups: the broker sets the session timeout
    group_consumer_heartbeat_interval_ms: int = 5000
    group_max_size: int = 2**31 - 1  # group.max.size and group.consumer.max.size (Kafka: unlimited)
    offset_metadata_max_bytes: int = 4096  # offset.metadata.max.bytes
    transaction_max_timeout_ms: int = 900000
    transaction_abort_timed_out_transaction_cleanup_interval_ms: int = 10000
    transactional_id_expiration_ms: int = 7 * 24 * 3600 * 1000
    trace: str | None = None  # --trace FILE: the protocol trace (gateway/trace.py); off by default
    trace_max_bytes: int = 100 * 1024 * 1024  # then FILE becomes FILE.1 and a new FILE begins
    client_report: bool = False  # --client-report: build the compatibility report live (GET /v1/clients)
    faults: str | None = None  # --faults FILE: fault specs injected from start-up (gateway/faults)
    crash_at: str | None = None  # tests only: a fault point that SIGKILLs the broker (gateway.txn.markers)
    shutdown_grace_s: float = 5.0
    http_port: int | None = None  # the HTTP server (gateway.http: console, /metrics, control API); off by default
    http_metrics: bool = True  # with the HTTP server, count requests/bytes on the hot path (gateway.metrics)
    log_format: str = "auto"  # gateway.logs: "console" (colour on a TTY), "json" lines, or auto (console)
    # connections and the memory they may make the broker hold: see ARCHITECTURE.md "Resource model"
    log_retention_check_interval_ms: int = 300000  # Kafka's default; tests set it low
    log_cleaner_backoff_ms: int = 15000  # how often the cleaner looks for compactable logs
    max_incremental_fetch_session_cache_slots: int = 1000
    max_in_flight_per_connection: int = 100  # reading pauses above this many unanswered requests
    max_unsent_bytes_per_connection: int = 1 << 20  # reading pauses while more response bytes are unsent
    fetch_max_bytes: int = 57671680  # Kafka: fetch.max.bytes (55 MiB), what one Fetch response may gather
    queued_max_request_bytes: int = 512 * 1024 * 1024  # broker-wide; Kafka: queued.max.request.bytes (-1)
    connections_max_idle_ms: int = 600000  # Kafka: connections.max.idle.ms
    request_receive_timeout_ms: int = 30000  # a request's bytes must all arrive within this of its first
    request_stall_timeout_ms: int = 5000  # ...and, while others wait for memory, make progress this often
    max_connections: int = 2**31 - 1  # Kafka: max.connections (held below the fd limit)
    max_connections_per_ip: int = 2**31 - 1  # Kafka: max.connections.per.ip
    authorizer: bool = False  # --authorizer (or authorizer.class.name set): ACLs enforced (gateway.security)
    super_users: tuple[str, ...] = ()  # --super-user User:NAME (repeatable; also super.users)
    allow_everyone_if_no_acl_found: bool = False  # allow.everyone.if.no.acl.found
    properties: tuple[tuple[str, str], ...] = ()  # Kafka-named settings from --config/--set (STATIC_BROKER_CONFIG)
    # security (gateway/listeners.py, gateway/security/): listeners as NAME://HOST:PORT; () = host/port, PLAINTEXT
    listener_specs: tuple[str, ...] = ()
    listeners: tuple = ()  # gateway.listeners.Listener, derived from the above (never given)
    users: tuple[tuple[str, str], ...] = ()  # --user NAME:PASSWORD: PLAIN users and SCRAM credentials
    ssl_cert: str | None = None  # PEM; none given: a CA and server certificate are made in <data-dir>/tls
    ssl_key: str | None = None
    ssl_ca: str | None = None  # the CA client certificates must chain to (mTLS)
    ssl_client_auth: str = "none"  # Kafka's ssl.client.auth: none, requested, required (SSL listeners)
    sasl_enabled_mechanisms: tuple[str, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
    connections_max_reauth_ms: int = 0  # KIP-368: 0 = sessions never expire

    def __post_init__(self) -> None:
        if 0 < self.queued_max_request_bytes < self.max_request_size:  # Kafka's own check
            raise ValueError("queued.max.request.bytes must be larger or equal to socket.request.max.bytes")
        from gateway.listeners import build_from_config

        listeners = build_from_config(self)
        object.__setattr__(self, "listeners", listeners)
        if self.listener_specs:  # the first listener is the broker's "host:port" for everything single-address
            first = listeners[0]
            object.__setattr__(self, "host", first.host)
            object.__setattr__(self, "port", first.port)
            object.__setattr__(self, "advertised_host", first.advertised_host)
            object.__setattr__(self, "advertised_port", first.advertised_port)

    @property
    def advertised(self) -> tuple[str, int]:
        return self.advertised_host or self.host, self.advertised_port or self.port
