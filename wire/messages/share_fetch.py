"""ShareFetch (key 78): v1-2 and ShareAcknowledge (key 79): v1-2; flexible in every version (KIP-932).

v1 adds MaxRecords and BatchSize to ShareFetch (v0, Kafka 4.0's early access, is gone). v2 adds
ShareAcquireMode (0 batch-optimized, 1 record-limit; KIP-1206) and IsRenewAck to both requests, and
AcquisitionLockTimeoutMs to the ShareAcknowledge response (KIP-1222, acknowledge type 4 Renew).
Acknowledge types: 0 Gap, 1 Accept, 2 Release, 3 Reject, 4 Renew.
"""

from wire.schema import Api, Field, Message

_ACKNOWLEDGEMENT_BATCH = [
    Field("first_offset", "int64"),
    Field("last_offset", "int64"),
    Field("acknowledge_types", "[]int8"),
]

_LEADER = [
    Field("leader_id", "int32"),
    Field("leader_epoch", "int32"),
]

_NODE_ENDPOINT = [
    Field("node_id", "int32"),
    Field("host", "string"),
    Field("port", "int32"),
    Field("rack", "string", nullable="0+", default=None),
]

SHARE_FETCH = Api(
    78,
    "ShareFetch",
    request=Message("ShareFetchRequest", 78, valid="1-2", flexible="0+", fields=[
        Field("group_id", "string", nullable="0+", default=None),
        Field("member_id", "string", nullable="0+"),
        Field("share_session_epoch", "int32"),
        Field("max_wait_ms", "int32"),
        Field("min_bytes", "int32"),
        Field("max_bytes", "int32", default=0x7FFFFFFF),
        Field("max_records", "int32", "1+"),
        Field("batch_size", "int32", "1+"),
        Field("share_acquire_mode", "int8", "2+", default=0),
        Field("is_renew_ack", "bool", "2+", default=False),
        Field("topics", "[]FetchTopic", fields=[
            Field("topic_id", "uuid"),
            Field("partitions", "[]FetchPartition", fields=[
                Field("partition_index", "int32"),
                Field("partition_max_bytes", "int32", "0"),
                Field("acknowledgement_batches", "[]AcknowledgementBatch", fields=_ACKNOWLEDGEMENT_BATCH),
            ]),
        ]),
        Field("forgotten_topics_data", "[]ForgottenTopic", fields=[
            Field("topic_id", "uuid"),
            Field("partitions", "[]int32"),
        ]),
    ]),
    response=Message("ShareFetchResponse", 78, valid="1-2", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("acquisition_lock_timeout_ms", "int32", "1+"),
        Field("responses", "[]ShareFetchableTopicResponse", fields=[
            Field("topic_id", "uuid"),
            Field("partitions", "[]PartitionData", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+", default=None),
                Field("acknowledge_error_code", "int16"),
                Field("acknowledge_error_message", "string", nullable="0+", default=None),
                Field("current_leader", "LeaderIdAndEpoch", fields=_LEADER),
                Field("records", "records", nullable="0"),
                Field("acquired_records", "[]AcquiredRecords", fields=[
                    Field("first_offset", "int64"),
                    Field("last_offset", "int64"),
                    Field("delivery_count", "int16"),
                ]),
            ]),
        ]),
        Field("node_endpoints", "[]NodeEndpoint", fields=_NODE_ENDPOINT),
    ]),
)

SHARE_ACKNOWLEDGE = Api(
    79,
    "ShareAcknowledge",
    request=Message("ShareAcknowledgeRequest", 79, valid="1-2", flexible="0+", fields=[
        Field("group_id", "string", nullable="0+", default=None),
        Field("member_id", "string", nullable="0+"),
        Field("share_session_epoch", "int32"),
        Field("is_renew_ack", "bool", "2+", default=False),
        Field("topics", "[]AcknowledgeTopic", fields=[
            Field("topic_id", "uuid"),
            Field("partitions", "[]AcknowledgePartition", fields=[
                Field("partition_index", "int32"),
                Field("acknowledgement_batches", "[]AcknowledgementBatch", fields=_ACKNOWLEDGEMENT_BATCH),
            ]),
        ]),
    ]),
    response=Message("ShareAcknowledgeResponse", 79, valid="1-2", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("acquisition_lock_timeout_ms", "int32", "2+"),
        Field("responses", "[]ShareAcknowledgeTopicResponse", fields=[
            Field("topic_id", "uuid"),
            Field("partitions", "[]PartitionData", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+", default=None),
                Field("current_leader", "LeaderIdAndEpoch", fields=_LEADER),
            ]),
        ]),
        Field("node_endpoints", "[]NodeEndpoint", fields=_NODE_ENDPOINT),
    ]),
)
