"""Share groups (KIP-932): members, and per partition the in-flight window's records by state, and the DLQ."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.share.partition import RecordState
from gateway.views.groups import MemberView, _members


@dataclass(frozen=True)
class SharePartitionView:
    topic: str
    partition: int
    start_offset: int  # the share-partition start offset (SPSO): below it every record is done with
    end_offset: int  # the in-flight window's end (SPEO)
    log_end: int
    in_flight: int  # records in the window
    available: int
    acquired: int
    acknowledged: int
    archiving: int  # waiting for their dead-letter write
    archived: int


@dataclass(frozen=True)
class ShareGroupSummary:
    group_id: str
    state: str
    members: int
    in_flight: int
    acquired: int
    archived: int
    dlq_topic: str


@dataclass(frozen=True)
class ShareGroupView:
    group_id: str
    state: str
    epoch: int
    members: list[MemberView]
    partitions: list[SharePartitionView]
    dlq_topic: str  # errors.deadletterqueue.topic.name ("" : none)
    dlq_records: int  # offsets in the dead-letter topic (all sources), -1 when it does not exist (yet)


def _partitions(broker, group_id: str) -> list[SharePartitionView]:
    views = []
    for (topic_id, index), sp in broker.shares.start_offsets(group_id).items():
        topic = broker.logs.get_by_id(topic_id)
        log = topic.partition(index) if topic is not None else None
        counts = sp.state_counts()
        views.append(SharePartitionView(
            topic.name if topic is not None else topic_id.hex(), index, sp.start, sp.end,
            log.high_watermark if log is not None else -1, sp.in_flight(), counts[RecordState.AVAILABLE],
            counts[RecordState.ACQUIRED], counts[RecordState.ACKNOWLEDGED], counts[RecordState.ARCHIVING],
            counts[RecordState.ARCHIVED]))
    return sorted(views, key=lambda v: (v.topic, v.partition))


def _dlq(broker, group_id: str) -> tuple[str, int]:
    name = broker.share_configs.for_group(group_id).dlq_topic_name
    topic = broker.logs.get(name) if name else None
    if topic is None:
        return name, -1
    return name, sum(max(0, p.high_watermark - p.log_start_offset) for p in topic.partitions)


def _share_groups(broker):
    return [(gid, g) for gid, g in sorted(broker.groups.groups.items()) if g.group_type == "share"]


def list_share_groups(broker) -> list[ShareGroupSummary]:
    summaries = []
    for group_id, g in _share_groups(broker):
        parts = _partitions(broker, group_id)
        summaries.append(ShareGroupSummary(group_id, g.state_name, len(g.members), sum(p.in_flight for p in parts),
                                           sum(p.acquired for p in parts), sum(p.archived for p in parts),
                                           _dlq(broker, group_id)[0]))
    return summaries


def share_group(broker, group_id: str) -> ShareGroupView | None:
    g = broker.groups.groups.get(group_id)
    if g is None or g.group_type != "share":
        return None
    dlq_topic, dlq_records = _dlq(broker, group_id)
    return ShareGroupView(group_id, g.state_name, g.group_epoch, _members(broker, g), _partitions(broker, group_id),
                          dlq_topic, dlq_records)
