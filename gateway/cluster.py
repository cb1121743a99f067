"""A cluster of N brokers in one process over one storage engine: a simulation of a Kafka cluster for
clients (leaders, ISRs, coordinators, broker failures), not replication.

`Cluster` is the `Broker` (gateway/broker.py: config, logs, coordinators, storage; `ctx.broker` in
handlers) plus its `nodes` (gateway/node.py; `ctx.node` is the one serving a connection) and each
partition's replica state (gateway/replicas.py), placed as Kafka places them (gateway/placement.py).

With one broker (the default) nothing here is consulted on the request path: `multi` stays False and
handlers answer as a single broker does, until a control operation (stop, move, ISR...) is used.

A paused (hung) broker of a cluster is fenced once broker.session.timeout.ms passes without its
heartbeats (a timer, no polling): it leaves every ISR and its leaderships move as for a stopped broker;
resumed, it registers again (unfenced) and rejoins the ISRs before it answers what it held.

Control operations (the fault front ends call these; all synchronous, on the event loop):
`stop_node`, `start_node`, `pause_node`, `resume_node`, `move_leader`, `move_coordinator`, `set_isr`;
reads: `nodes`, `partition_state`, `coordinator`. A bad argument raises ClusterError.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from gateway.broker import Broker
from gateway.clock import now_ms
from gateway.config import Config
from gateway.groups.timers import Timers
from gateway.internal_topics import GROUP_METADATA_TOPIC, TRANSACTION_STATE_TOPIC, ensure_internal_topic
from gateway.node import Endpoint, Node
from gateway.placement import assign_replicas, coordinator_partition, elect_leader, seeded_start
from gateway.replicas import ReplicaState, ReplicaStore
from wire.errors import ErrorCode

log = structlog.get_logger("ottla.cluster")

GROUP, TRANSACTION = "group", "transaction"
COORDINATOR_TOPICS = {GROUP: GROUP_METADATA_TOPIC, TRANSACTION: TRANSACTION_STATE_TOPIC}
_NUM_PARTITIONS = {GROUP: "offsets.topic.num.partitions", TRANSACTION: "transaction.state.log.num.partitions"}
_INTERNAL_RF = {GROUP_METADATA_TOPIC: "offsets.topic.replication.factor",
                TRANSACTION_STATE_TOPIC: "transaction.state.log.replication.factor",
                "__share_group_state": "share.coordinator.state.topic.replication.factor"}


MAX_EPOCHS = 1000  # leader epochs kept per partition for OffsetForLeaderEpoch (ARCHITECTURE.md resource model)


class ClusterError(ValueError):
    """A control operation that cannot be done (unknown node, not a replica...)."""


def node_endpoints(config: Config, index: int) -> list[Endpoint]:
    """Broker `index`'s (0-based) listeners: every configured listener at its port + index."""
    listeners = getattr(config, "listeners", None)
    if listeners:  # gateway/listeners.py (Listener: name, host, port, advertised_host, advertised_port)
        return [Endpoint(lst.name, lst.host, lst.port + index if lst.port else 0,
                         lst.advertised_host or lst.host,
                         (lst.advertised_port or lst.port) + index if (lst.advertised_port or lst.port) else 0)
                for lst in listeners]
    host, port = config.advertised
    return [Endpoint("PLAINTEXT", config.host, config.port + index if config.port else 0, host,
                     port + index if port else 0)]


class _TimerSource:
    """Broker.add_timer_source's protocol over one Timers."""

    def __init__(self, timers: Timers) -> None:
        self.timers = timers

    def tick(self, now: int) -> None:
        self.timers.run_due(now)

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()


class Cluster(Broker):
    def __init__(self, config: Config, storage, brokers: int | None = None) -> None:
        super().__init__(config, storage)
        brokers = brokers if brokers is not None else getattr(config, "brokers", 1)
        if brokers < 1:
            raise ValueError(f"a cluster needs at least one broker, not {brokers}")
        ids = [config.node_id] if brokers == 1 else list(range(1, brokers + 1))
        self.nodes: dict[int, Node] = {nid: Node(nid, node_endpoints(config, i)) for i, nid in enumerate(ids)}
        self.size = brokers
        self.multi = brokers > 1  # whether handlers consult replica states at all (see the docstring)
        # what Metadata's kept encodings are stamped with (gateway/encoded_partitions.py): `liveness` moves
        # when a broker stops, starts, is fenced or resumes (every partition's offline replicas may move),
        # a topic's count with every replica state change of its partitions (`_saved`)
        self.liveness = 0
        self._topic_changes: dict[bytes, int] = {}
        self.controller_id = ids[0]
        self._store = ReplicaStore(storage.state())
        self._states: dict[tuple[bytes, int], ReplicaState] = {}
        self._replication: dict[bytes, int] = {}  # topic id -> the replication factor CreateTopics asked
        self._assigned: dict[tuple[bytes, int], list[int]] = {}  # manual assignments not yet placed
        self.listen: Callable[[Node], None] | None = None  # the server's: open a node's listeners
        self.fencing = Timers()  # node id -> when a paused node's broker session expires
        self.add_timer_source(_TimerSource(self.fencing), self.fencing)
        if self.multi:
            self._activate(force=True)
        self.node_id = ids[0]
        self.host, self.port = self.nodes[ids[0]].host, self.nodes[ids[0]].port

    # reads ---------------------------------------------------------------------------------------

    def alive_ids(self) -> list[int]:
        """The registered brokers: running and not fenced (Kafka's controller elects only among these)."""
        return [nid for nid, node in self.nodes.items() if node.alive and not node.fenced]

    def live_nodes(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.alive and not node.fenced]

    def node(self, node_id: int) -> Node:
        node = self.nodes.get(node_id)
        if node is None:
            raise ClusterError(f"no broker {node_id} (brokers: {sorted(self.nodes)})")
        return node

    def state(self, log) -> ReplicaState:
        """The replica state of a partition log, placed on first use."""
        key = (log.topic.topic_id, log.index)
        state = self._states.get(key)
        if state is None:
            self._place(log.topic)
            state = self._states[key]
        return state

    def partition_state(self, topic: str, partition: int) -> dict:
        log_ = self._log(topic, partition)
        state = self.state(log_)
        return {"topic": topic, "partition": partition, "leader": state.leader, "epoch": state.epoch,
                "replicas": list(state.replicas), "isr": list(state.isr),
                "offline": [r for r in state.replicas if not self._alive(r)]}

    def partition_entry(self, log_) -> dict:
        """The partition as Metadata and DescribeTopicPartitions show it (LEADER_NOT_AVAILABLE: offline)."""
        state = self.state(log_)
        return {"error_code": ErrorCode.LEADER_NOT_AVAILABLE if state.leader < 0 else ErrorCode.NONE,
                "partition_index": log_.index, "leader_id": state.leader, "leader_epoch": state.epoch,
                "replica_nodes": list(state.replicas), "isr_nodes": list(state.isr),
                "offline_replicas": [r for r in state.replicas if not self._alive(r)]}

    def broker_entries(self, listener_name: str) -> list[dict]:
        """Every live broker's address on the listener the client came through (Kafka advertises that one)."""
        entries = []
        for node in self.live_nodes():
            host, port = node.address(listener_name)
            entries.append({"node_id": node.node_id, "host": host, "port": port, "rack": None})
        return entries

    def coordinator(self, kind: str, key: str) -> Node | None:
        """The node coordinating a group or transactional id (the leader of its internal partition),
        None while that partition is offline."""
        if not self.multi:
            return self.nodes[self.node_id]
        log_ = self._coordinator_log(kind, key)
        leader = self.state(log_).leader
        return self.nodes.get(leader) if leader >= 0 else None

    def is_coordinator(self, node: Node | None, kind: str, key: str) -> bool:
        if not self.multi or node is None:
            return True
        coordinator = self.coordinator(kind, key)
        return coordinator is node

    def leader_error(self, node: Node | None, log_, current_leader_epoch: int = -1, *,
                     follower_ok: bool = False) -> ErrorCode:
        """What `node` answers for a request about this partition: Kafka's
        Partition.localLogWithEpochOrThrow (a broker that holds no replica, or a follower asked for a
        leader's work, is NOT_LEADER_OR_FOLLOWER; the client's epoch older than the leader's is
        FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH)."""
        if node is None:
            return ErrorCode.NONE
        state = self.state(log_)
        node_id = node.node_id
        if node_id not in state.replicas:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        if current_leader_epoch >= 0:
            if current_leader_epoch < state.epoch:
                return ErrorCode.FENCED_LEADER_EPOCH
            if current_leader_epoch > state.epoch:
                return ErrorCode.UNKNOWN_LEADER_EPOCH
        if state.leader != node_id and not follower_ok:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        return ErrorCode.NONE

    def paused_followers(self, log_) -> list[int]:
        """The ISR members other than the leader that are paused (an acks=all append waits for them)."""
        state = self.state(log_)
        return [r for r in state.isr if r != state.leader and self.nodes[r].paused] if state.leader >= 0 else []

    def shrink_isr(self, log_, node_ids: list[int]) -> None:
        """Followers that did not catch up within replica.lag.time.max.ms leave the ISR (the leader stays)."""
        state = self.state(log_)
        isr = [r for r in state.isr if r not in node_ids or r == state.leader]
        if isr != state.isr:
            state.isr = isr
            self._saved([((log_.topic.topic_id, log_.index), state)])
            log.info("isr_shrunk", topic=log_.topic.name, partition=log_.index, isr=isr, removed=node_ids)

    def leader_hint(self, log_) -> tuple[dict, Node | None]:
        """KIP-951: ({leader_id, leader_epoch} of the current leader, its Node)."""
        state = self.state(log_)
        node = self.nodes.get(state.leader) if state.leader >= 0 and self._alive(state.leader) else None
        return ({"leader_id": state.leader if node else -1, "leader_epoch": state.epoch if node else -1}, node)

    # control -------------------------------------------------------------------------------------

    def stop_node(self, node_id: int) -> None:
        """The broker dies: its listeners and connections close, it leaves every ISR, leadership and
        coordinators move to live in-sync replicas (or go offline), the controller moves."""
        node = self.node(node_id)
        if not node.alive:
            return
        self._activate()
        node.alive = False
        node.paused = False
        node.close_listeners()
        node.close_connections()
        node.resume()  # held connections are closed; nothing more waits on this node
        self.fencing.cancel(node_id)
        changed = [] if node.fenced else self._leave(node_id)
        node.fenced = False
        self._saved(changed)
        self.liveness += 1  # offline replicas moved even where no state did (gateway/encoded_partitions.py)
        log.info("broker_stopped", node_id=node_id, partitions_changed=len(changed), controller_id=self.controller_id)

    def _leave(self, node_id: int) -> list:
        """A broker gone (stopped, or fenced): it leaves every ISR (the last member stays: Kafka's
        ELR-less ISR), leadership moves to the next live in-sync replica (or goes offline, or with
        unclean election to any live replica), the controller moves. Returns what changed."""
        changed = []
        alive = self.alive_ids()
        for key, state in self._all_states():
            if node_id not in state.replicas:
                continue
            moved = False
            if state.leader == node_id:
                leader = elect_leader(state.replicas, [r for r in state.isr if r != node_id], alive,
                                      unclean=self._unclean(key))
                moved = self._set_leader(key, state, leader)
            if node_id in state.isr and len(state.isr) > 1:
                state.isr = [r for r in state.isr if r != node_id]
                if state.leader >= 0 and state.leader not in state.isr:
                    state.isr.append(state.leader)
                moved = True
            if moved:
                changed.append((key, state))
        if self.controller_id == node_id:
            self.controller_id = alive[0] if alive else -1
        return changed

    def start_node(self, node_id: int) -> None:
        """The broker comes back: its listeners open, it rejoins the ISR of what it replicates (its log
        is the shared one: caught up at once) and leads offline partitions it can lead."""
        node = self.node(node_id)
        if node.alive:
            return
        self._activate()
        node.alive = True
        if self.listen is not None:
            self.listen(node)
        changed = self._rejoin(node_id)
        if self.controller_id < 0:
            self.controller_id = node_id
        self._saved(changed)
        self.liveness += 1  # offline replicas moved even where no state did (gateway/encoded_partitions.py)
        log.info("broker_started", node_id=node_id, partitions_changed=len(changed))

    def _rejoin(self, node_id: int) -> list:
        """A broker back (started, resumed) catches up at once (its log is the shared one): it rejoins the
        ISR of what it replicates and leads offline partitions it may lead."""
        changed = []
        for key, state in self._all_states():
            if node_id not in state.replicas:
                continue
            if state.leader < 0:
                if node_id in state.isr:
                    self._set_leader(key, state, node_id)
                elif self._unclean(key):
                    state.isr = [node_id]
                    self._set_leader(key, state, node_id)
                else:
                    continue  # stays offline: only an in-sync replica may lead
            elif node_id not in state.isr:
                state.isr = sorted(state.isr + [node_id], key=state.replicas.index)
            else:
                continue
            changed.append((key, state))
        return changed

    def pause_node(self, node_id: int, now: int | None = None) -> None:
        """The broker hangs: it accepts connections and requests and answers none of them until resumed.
        In a cluster its heartbeats stop too: broker.session.timeout.ms later the controller fences it."""
        node = self.node(node_id)
        if node.alive and not node.paused:
            node.paused = True
            timeout = None
            if self.size > 1:  # one broker is its own controller: nobody fences it
                timeout = self.configs.broker("broker.session.timeout.ms")
                self.fencing.schedule(node_id, (now if now is not None else now_ms()) + timeout,
                                      lambda _deadline: self._fence(node_id))
            log.info("broker_paused", node_id=node_id, session_timeout_ms=timeout)

    def _fence(self, node_id: int) -> None:
        """The controller heard no heartbeat within broker.session.timeout.ms: the broker is fenced."""
        node = self.nodes[node_id]
        if not node.alive or not node.paused or node.fenced:
            return
        self._activate()
        node.fenced = True
        changed = self._leave(node_id)
        self._saved(changed)
        self.liveness += 1  # offline replicas moved even where no state did (gateway/encoded_partitions.py)
        for callback in list(node.on_fenced):
            callback()
        log.info("broker_fenced", node_id=node_id, partitions_changed=len(changed), controller_id=self.controller_id)

    def resume_node(self, node_id: int) -> None:
        """The broker wakes: fenced, it registers again first (unfenced, back in the ISRs, a follower
        where leadership moved), then answers what it held as the broker it now is."""
        node = self.node(node_id)
        if node.paused:
            self.fencing.cancel(node_id)
            fenced, node.fenced = node.fenced, False
            if fenced and self.controller_id < 0:
                self.controller_id = node_id
            changed = self._rejoin(node_id) if self.multi else []
            self._saved(changed)
            self.liveness += 1  # a fenced broker's replicas are online again (gateway/encoded_partitions.py)
            node.resume()
            log.info("broker_resumed", node_id=node_id, partitions_changed=len(changed), was_fenced=fenced)

    def move_leader(self, topic: str, partition: int, node_id: int) -> None:
        """Make node_id the leader (it must be a live in-sync replica, as an ElectLeaders/reassignment needs)."""
        log_ = self._log(topic, partition)
        node = self.node(node_id)
        state = self.state(log_)
        if node_id not in state.replicas:
            raise ClusterError(f"broker {node_id} is not a replica of {topic}-{partition} {state.replicas}")
        if not node.alive:
            raise ClusterError(f"broker {node_id} is stopped")
        if node_id not in state.isr:
            raise ClusterError(f"broker {node_id} is not in the ISR of {topic}-{partition} {state.isr}")
        self._activate()
        key = (log_.topic.topic_id, partition)
        if self._set_leader(key, state, node_id):
            self._saved([(key, state)])
            log.info("leader_moved", topic=topic, partition=partition, leader=node_id, epoch=state.epoch)

    def move_coordinator(self, kind: str, key: str, node_id: int) -> None:
        """Move the coordinator of a group ("group") or transactional id ("transaction") to node_id:
        the leader of its __consumer_offsets / __transaction_state partition moves (so do the
        coordinators of every key in that partition, as in Kafka)."""
        if kind not in COORDINATOR_TOPICS:
            raise ClusterError(f"coordinator kind must be one of {sorted(COORDINATOR_TOPICS)}, not {kind!r}")
        log_ = self._coordinator_log(kind, key)
        self.move_leader(log_.topic.name, log_.index, node_id)

    def elect(self, log_, unclean: bool) -> tuple[ErrorCode, str | None]:
        """ElectLeaders for one partition, as Kafka's controller answers it: a preferred election moves
        leadership to the first replica if it is live and in sync; an unclean one elects a live replica
        for an offline partition."""
        state = self.state(log_)
        key = (log_.topic.topic_id, log_.index)
        name = f"{log_.topic.name}-{log_.index}"
        if not unclean:
            preferred = state.replicas[0]
            if state.leader == preferred:
                return ErrorCode.ELECTION_NOT_NEEDED, None
            if not self._alive(preferred) or preferred not in state.isr:
                return ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, \
                    f"Failed to elect leader for partition {name} under strategy PreferredReplicaPartitionLeaderElectionStrategy"
            leader = preferred
        else:
            if state.leader >= 0:
                return ErrorCode.ELECTION_NOT_NEEDED, None
            leader = elect_leader(state.replicas, state.isr, self.alive_ids(), unclean=True)
            if leader < 0:
                return ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, \
                    f"Failed to elect leader for partition {name} under strategy UncleanLeaderElectionStrategy"
            if leader not in state.isr:
                state.isr = [leader]
        self._activate()
        self._set_leader(key, state, leader)
        self._saved([(key, state)])
        log.info("leader_elected", topic=log_.topic.name, partition=log_.index, leader=leader, epoch=state.epoch,
                 unclean=unclean)
        return ErrorCode.NONE, None

    def set_isr(self, topic: str, partition: int, node_ids: list[int]) -> None:
        """Shrink or grow the ISR to node_ids (replicas of the partition); a leader outside it gives way
        to the first live member."""
        log_ = self._log(topic, partition)
        state = self.state(log_)
        isr = [r for r in state.replicas if r in set(node_ids)]
        unknown = set(node_ids) - set(state.replicas)
        if unknown or not isr:
            raise ClusterError(f"the ISR of {topic}-{partition} must be a non-empty subset of its replicas "
                               f"{state.replicas}, not {sorted(node_ids)}")
        self._activate()
        key = (log_.topic.topic_id, partition)
        state.isr = isr
        if state.leader not in isr:
            self._set_leader(key, state, elect_leader(state.replicas, isr, self.alive_ids()))
        self._saved([(key, state)])
        log.info("isr_changed", topic=topic, partition=partition, isr=isr, leader=state.leader)

    # topics --------------------------------------------------------------------------------------

    def replication_for(self, topic_id: bytes, replication_factor: int,
                        assignment: list[list[int]] | None = None) -> None:
        """What CreateTopics asked for a new topic (-1: default.replication.factor)."""
        self._replication[topic_id] = replication_factor
        if assignment:
            self.assign(topic_id, dict(enumerate(assignment)))

    def assign(self, topic_id: bytes, replicas: dict[int, list[int]]) -> None:
        """Manual replica assignments (CreateTopics, CreatePartitions) for partitions not placed yet."""
        for index, ids in replicas.items():
            self._assigned[topic_id, index] = list(ids)

    def default_replication_factor(self, name: str = "") -> int:
        config = _INTERNAL_RF.get(name, "default.replication.factor")
        try:
            wanted = self.configs.broker(config)
        except KeyError:
            wanted = None
        return max(1, min(wanted if wanted is not None else 3, self.size))

    def shown_version(self, topic_id: bytes) -> tuple[int, int]:
        """What a topic's partitions as Metadata shows them depend on besides the topic itself: brokers'
        liveness and its partitions' replica state changes (gateway/encoded_partitions.py)."""
        return self.liveness, self._topic_changes.get(topic_id, 0)

    def topic_deleted(self, topic) -> None:
        self._topic_changes.pop(topic.topic_id, None)  # (a topic made again is a new Topic, a new id)
        found = [self._states.pop((topic.topic_id, index), None) for index in range(len(topic.partitions))]
        if self.multi and any(s is not None for s in found):
            self._store.delete_topic(topic.topic_id, len(topic.partitions))
        self._replication.pop(topic.topic_id, None)
        for key in [k for k in self._assigned if k[0] == topic.topic_id]:
            del self._assigned[key]

    # internals -----------------------------------------------------------------------------------

    def _alive(self, node_id: int) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and node.alive and not node.fenced

    def _activate(self, force: bool = False) -> None:
        """A control operation on a single broker: from now on handlers consult replica states."""
        if force or not self.multi:
            self.multi = True
            self._load()
            from gateway.coordination import install as install_coordination  # only a cluster wraps handlers

            install_coordination()
            self.markers.coordinator_epoch = self.coordinator_epoch

    def coordinator_epoch(self, transactional_id: str) -> int:
        """Kafka's transaction coordinator epoch: the leader epoch of the id's __transaction_state
        partition, written into its transaction markers (it moves with the coordinator)."""
        return self.state(self._coordinator_log(TRANSACTION, transactional_id)).epoch

    def _load(self) -> None:
        for key, state in self._store.load().items():
            topic = self.logs.get_by_id(key[0])
            if topic is None or key[1] >= len(topic.partitions):
                continue
            self._states[key] = state
            topic.partitions[key[1]].leader_epoch = state.epoch

    def _all_states(self):
        for topic in list(self.logs.topics.values()):
            for log_ in topic.partitions:
                yield (topic.topic_id, log_.index), self.state(log_)

    def _place(self, topic) -> None:
        """Replica states for the topic's partitions that have none: Kafka's placement, live replicas
        in the ISR, the first live replica leading."""
        rf = self._replication.get(topic.topic_id, -1)
        existing = [i for i in range(len(topic.partitions)) if (topic.topic_id, i) in self._states]
        ids = sorted(self.nodes)
        if existing and rf < 0:
            rf = len(self._states[topic.topic_id, existing[0]].replicas)
        if rf < 0:
            rf = self.default_replication_factor(topic.name)
        rf = max(1, min(rf, len(ids)))
        start, shift = seeded_start(topic.topic_id, len(ids))
        placed = assign_replicas(len(topic.partitions), rf, ids, start_index=start, shift=shift)
        alive = self.alive_ids()
        new = []
        for index, log_ in enumerate(topic.partitions):
            key = (topic.topic_id, index)
            if key in self._states:
                continue
            replicas = self._assigned.pop(key, None) or placed[index]
            isr = [r for r in replicas if r in alive] or [replicas[0]]
            leader = elect_leader(replicas, isr, alive)
            state = ReplicaState(replicas, leader, log_.leader_epoch, isr, [(log_.leader_epoch, log_.log_end_offset)])
            self._states[key] = state
            new.append((key, state))
        if self.multi:
            self._saved(new)

    def _set_leader(self, key, state: ReplicaState, leader: int) -> bool:
        """A leadership change (to -1: offline); bumps the leader epoch as Kafka's controller does."""
        if leader == state.leader:
            return False
        topic = self.logs.get_by_id(key[0])
        log_ = topic.partitions[key[1]] if topic is not None and key[1] < len(topic.partitions) else None
        state.leader = leader
        state.epoch += 1
        if leader >= 0:
            state.epochs.append((state.epoch, log_.log_end_offset if log_ is not None else 0))
            if len(state.epochs) > MAX_EPOCHS:  # the oldest epochs are of no use past a point (bounded)
                del state.epochs[:len(state.epochs) - MAX_EPOCHS]
        if log_ is not None:
            log_.leader_epoch = state.epoch
        return True

    def _saved(self, changed: list) -> None:
        if changed:
            for topic_id in {key[0] for key, _ in changed}:
                self._topic_changes[topic_id] = self._topic_changes.get(topic_id, 0) + 1
            self._store.save_many([(key[0], key[1], state) for key, state in changed])

    def _unclean(self, key) -> bool:
        topic = self.logs.get_by_id(key[0])
        return bool(topic is not None and topic.config("unclean.leader.election.enable"))

    def _log(self, topic: str, partition: int):
        t = self.logs.get(topic)
        log_ = t.partition(partition) if t is not None else None
        if log_ is None:
            raise ClusterError(f"no partition {topic}-{partition}")
        return log_

    def _coordinator_log(self, kind: str, key: str):
        topic = ensure_internal_topic(self, COORDINATOR_TOPICS[kind])
        partitions = len(topic.partitions)
        try:
            configured = self.configs.broker(_NUM_PARTITIONS[kind])
        except KeyError:
            configured = None
        if configured:
            partitions = min(partitions, configured)
        return topic.partitions[coordinator_partition(key, partitions)]
