"""The transaction APIs and their effect on Produce, Fetch, ListOffsets and OffsetFetch, over the wire."""

from __future__ import annotations

import itertools

import pytest

from tests.gateway.test_handlers import create, fetch, produce
from wire.errors import ErrorCode as E
from wire.records import build_batch

INIT, ADD_PARTITIONS, ADD_OFFSETS, END_TXN, TXN_OFFSET_COMMIT = 22, 24, 25, 26, 28
LIST_OFFSETS, OFFSET_FETCH = 2, 9
DESCRIBE_PRODUCERS, DESCRIBE_TXNS, LIST_TXNS = 61, 65, 66
READ_COMMITTED = 1
_names = itertools.count()


@pytest.fixture
def client(broker):
    c = broker.client()
    yield c
    c.close()


class Txn:
    """One transactional producer driven by raw requests."""

    def __init__(self, client, topic, tid=None, timeout=60000, version=4):
        self.client, self.topic = client, topic
        self.tid = tid or f"tx-{next(_names)}"
        answer = init(client, self.tid, timeout, version=version)
        assert answer.error_code == E.NONE
        self.pid, self.epoch, self.seq = answer.producer_id, answer.producer_epoch, 0

    def add(self, partitions=(0,), version=3, topic=None):
        body = {"v3_and_below_transactional_id": self.tid, "v3_and_below_producer_id": self.pid,
                "v3_and_below_producer_epoch": self.epoch,
                "v3_and_below_topics": [{"name": topic or self.topic, "partitions": list(partitions)}]}
        answer = self.client.request(ADD_PARTITIONS, version, body)
        return [r.partition_error_code for t in answer.results_by_topic_v3_and_below for r in t.results_by_partition]

    def send(self, values, partition=0, epoch=None):
        batch = build_batch([(None, v, [], 1_700_000_000_000 + i) for i, v in enumerate(values)],
                            producer_id=self.pid, producer_epoch=self.epoch if epoch is None else epoch,
                            base_sequence=self.seq, transactional=True)
        answer = produce(self.client, self.topic, batch, partition)
        if answer.error_code == E.NONE:
            self.seq += len(values)
        return answer

    def end(self, commit, version=3, epoch=None):
        return self.client.request(END_TXN, version, {
            "transactional_id": self.tid, "producer_id": self.pid,
            "producer_epoch": self.epoch if epoch is None else epoch, "committed": commit}).error_code


def init(client, tid, timeout=60000, pid=-1, epoch=-1, version=4):
    return client.request(INIT, version, {"transactional_id": tid, "transaction_timeout_ms": timeout,
                                          "producer_id": pid, "producer_epoch": epoch})


def topic_of(client, partitions=1):
    name = f"txn-topic-{next(_names)}"
    create(client, name, partitions)
    return name


def latest(client, name, committed):
    answer = client.request(LIST_OFFSETS, 7, {"replica_id": -1, "isolation_level": int(committed), "topics": [
        {"name": name, "partitions": [{"partition_index": 0, "current_leader_epoch": -1, "timestamp": -1}]}]})
    return answer.topics[0].partitions[0].offset


def test_read_committed_fetch_and_list_offsets_stop_at_the_lso(client):
    name = topic_of(client)
    txn = Txn(client, name)
    assert txn.add() == [E.NONE]
    assert txn.send([b"a", b"b"]).error_code == E.NONE
    part = fetch(client, name, 0, isolation=READ_COMMITTED).responses[0].partitions[0]
    assert (part.high_watermark, part.last_stable_offset, part.records) == (2, 0, b"")
    assert (latest(client, name, True), latest(client, name, False)) == (0, 2)
    uncommitted = fetch(client, name, 0).responses[0].partitions[0]
    assert uncommitted.aborted_transactions is None and uncommitted.records
    assert txn.end(True) == E.NONE
    part = fetch(client, name, 0, isolation=READ_COMMITTED).responses[0].partitions[0]
    assert (part.high_watermark, part.last_stable_offset, part.aborted_transactions) == (3, 3, [])
    assert latest(client, name, True) == 3


def test_an_aborted_transaction_is_listed_for_read_committed_only(client):
    name = topic_of(client)
    txn = Txn(client, name)
    txn.add()
    txn.send([b"gone"])
    assert txn.end(False) == E.NONE
    txn.add()
    txn.send([b"kept"])
    txn.end(True)
    committed = fetch(client, name, 0, isolation=READ_COMMITTED).responses[0].partitions[0]
    assert [(a.producer_id, a.first_offset) for a in committed.aborted_transactions] == [(txn.pid, 0)]
    assert fetch(client, name, 2, isolation=READ_COMMITTED).responses[0].partitions[0].aborted_transactions == []
    assert fetch(client, name, 0).responses[0].partitions[0].aborted_transactions is None


def test_produce_outside_the_transaction_or_from_a_fenced_epoch_is_refused(client):
    name = topic_of(client, 2)
    txn = Txn(client, name)
    assert txn.send([b"x"]).error_code == E.INVALID_TXN_STATE  # nothing added yet
    txn.add([0])
    assert txn.send([b"x"], partition=1).error_code == E.INVALID_TXN_STATE
    assert txn.send([b"ok"]).error_code == E.NONE
    successor = init(client, txn.tid)
    assert successor.producer_epoch == txn.epoch + 2  # fenced (+1, the abort markers) and bumped again
    assert txn.send([b"zombie"]).error_code == E.INVALID_PRODUCER_EPOCH
    assert txn.end(True) == E.PRODUCER_FENCED
    assert txn.end(True, version=1) == E.INVALID_PRODUCER_EPOCH  # before PRODUCER_FENCED existed
    assert txn.add(version=1) == [E.INVALID_PRODUCER_EPOCH]
    assert init(client, txn.tid, pid=txn.pid, epoch=txn.epoch, version=3).error_code == E.INVALID_PRODUCER_EPOCH
    assert init(client, txn.tid, pid=txn.pid, epoch=txn.epoch, version=4).error_code == E.PRODUCER_FENCED
    assert fetch(client, name, 0, isolation=READ_COMMITTED).responses[0].partitions[0].last_stable_offset == 2


def test_init_producer_id_errors(client):
    assert init(client, "tx-timeout", timeout=900001).error_code == E.INVALID_TRANSACTION_TIMEOUT
    assert init(client, "tx-zero", timeout=0).error_code == E.INVALID_TRANSACTION_TIMEOUT
    two_pc = client.request(INIT, 6, {"transactional_id": "tx-2pc", "transaction_timeout_ms": 1000,
                                      "producer_id": -1, "producer_epoch": -1, "enable2_pc": True,
                                      "keep_prepared_txn": False})
    assert two_pc.error_code == E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    plain = client.request(INIT, 6, {"transactional_id": None, "transaction_timeout_ms": 1000,
                                     "producer_id": -1, "producer_epoch": -1})
    assert (plain.error_code, plain.producer_epoch, plain.ongoing_txn_producer_id) == (E.NONE, 0, -1)


def test_add_partitions_of_an_unknown_topic(client):
    name = topic_of(client)
    txn = Txn(client, name)
    body = {"v3_and_below_transactional_id": txn.tid, "v3_and_below_producer_id": txn.pid,
            "v3_and_below_producer_epoch": txn.epoch, "v3_and_below_topics": [
                {"name": name, "partitions": [0]}, {"name": "no-such-topic", "partitions": [0]}]}
    answer = client.request(ADD_PARTITIONS, 0, body).results_by_topic_v3_and_below
    assert [(t.name, t.results_by_partition[0].partition_error_code) for t in answer] == [
        (name, E.OPERATION_NOT_ATTEMPTED), ("no-such-topic", E.UNKNOWN_TOPIC_OR_PARTITION)]
    assert txn.end(True) == E.INVALID_TXN_STATE  # nothing was added


def txn_offset_commit(client, txn, group, offset, version=3, generation=-1, member=""):
    body = {"transactional_id": txn.tid, "group_id": group, "producer_id": txn.pid, "producer_epoch": txn.epoch,
            "generation_id_or_member_epoch": generation, "member_id": member, "group_instance_id": None,
            "topics": [{"name": txn.topic, "partitions": [{"partition_index": 0, "committed_offset": offset,
                                                            "committed_leader_epoch": -1,
                                                            "committed_metadata": ""}]}]}
    return client.request(TXN_OFFSET_COMMIT, version, body).topics[0].partitions[0].error_code


def offset_fetch(client, group, topic, require_stable):
    answer = client.request(OFFSET_FETCH, 7, {"group_id": group, "topics": [
        {"name": topic, "partition_indexes": [0]}], "require_stable": require_stable})
    part = answer.topics[0].partitions[0]
    return part.error_code, part.committed_offset


def test_txn_offset_commit_is_staged_unstable_then_committed_or_dropped(client):
    name = topic_of(client)
    group = f"txn-group-{next(_names)}"
    txn = Txn(client, name)
    assert txn_offset_commit(client, txn, group, 5) == E.INVALID_TXN_STATE  # AddOffsetsToTxn first
    add = {"transactional_id": txn.tid, "producer_id": txn.pid, "producer_epoch": txn.epoch, "group_id": group}
    assert client.request(ADD_OFFSETS, 3, add).error_code == E.NONE
    assert txn_offset_commit(client, txn, group, 5, generation=7, member="nobody") == E.ILLEGAL_GENERATION
    assert txn_offset_commit(client, txn, group, 5) == E.NONE
    assert offset_fetch(client, group, name, True) == (E.UNSTABLE_OFFSET_COMMIT, -1)
    assert offset_fetch(client, group, name, False) == (E.NONE, -1)
    assert txn.end(False) == E.NONE
    assert offset_fetch(client, group, name, True) == (E.NONE, -1)
    client.request(ADD_OFFSETS, 0, add)
    assert txn_offset_commit(client, txn, group, 9, version=0) == E.NONE
    assert txn.end(True) == E.NONE
    assert offset_fetch(client, group, name, True) == (E.NONE, 9)
    stale = Txn.__new__(Txn)
    stale.__dict__.update(txn.__dict__, epoch=txn.epoch - 1)
    assert txn_offset_commit(client, stale, group, 1, version=0) == E.INVALID_PRODUCER_EPOCH
    assert txn_offset_commit(client, stale, group, 1, version=3) == E.PRODUCER_FENCED


def test_describe_producers_transactions_and_list_transactions(client):
    name = topic_of(client)
    txn = Txn(client, name)
    txn.add()
    txn.send([b"a", b"b"])
    producers = client.request(DESCRIBE_PRODUCERS, 0, {"topics": [{"name": name, "partition_indexes": [0, 9]}]})
    ok, missing = producers.topics[0].partitions
    (state,) = ok.active_producers
    assert (state.producer_id, state.producer_epoch, state.last_sequence, state.current_txn_start_offset) == (
        txn.pid, txn.epoch, 1, 0)
    assert missing.error_code == E.UNKNOWN_TOPIC_OR_PARTITION
    described = client.request(DESCRIBE_TXNS, 0, {"transactional_ids": [txn.tid, "tx-unknown"]}).transaction_states
    assert (described[0].transaction_state, described[0].producer_id, described[0].topics[0].partitions) == (
        "Ongoing", txn.pid, [0])
    assert described[1].error_code == E.TRANSACTIONAL_ID_NOT_FOUND
    listed = client.request(LIST_TXNS, 2, {"state_filters": ["Ongoing", "Bogus"], "producer_id_filters": [txn.pid],
                                           "duration_filter": -1, "transactional_id_pattern": "tx-.*"})
    assert ([t.transactional_id for t in listed.transaction_states], listed.unknown_state_filters) == (
        [txn.tid], ["Bogus"])
    bad = client.request(LIST_TXNS, 2, {"state_filters": [], "producer_id_filters": [], "duration_filter": -1,
                                        "transactional_id_pattern": "(unclosed"})
    assert bad.error_code == E.INVALID_REGULAR_EXPRESSION
    txn.end(True)
    assert client.request(DESCRIBE_PRODUCERS, 0, {"topics": [{"name": name, "partition_indexes": [0]}]}
                          ).topics[0].partitions[0].active_producers[0].current_txn_start_offset == -1


def test_a_client_control_batch_is_refused(client):
    name = topic_of(client)
    batch = build_batch([(b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x00", [], 0)], producer_id=5,
                        producer_epoch=0, transactional=True, control=True)
    assert produce(client, name, batch).error_code == E.INVALID_RECORD
