"""DeleteTopics (key 20): v1-6.

v1-3 are the same (v3 may return TOPIC_DELETION_DISABLED); v4 is the first flexible version; v5
adds error_message and may return THROTTLING_QUOTA_EXCEEDED (KIP-599); v6 replaces topic_names
with topics, each named or identified by topic_id (name null), and may return UNKNOWN_TOPIC_ID.
"""

from wire.schema import Api, Field, Message

DELETE_TOPICS = Api(
    20,
    "DeleteTopics",
    request=Message("DeleteTopicsRequest", 20, valid="1-6", flexible="4+", fields=[
        Field("topics", "[]DeleteTopicState", "6+", fields=[
            Field("name", "string", "6+", nullable="6+", default=None),
            Field("topic_id", "uuid", "6+"),
        ]),
        Field("topic_names", "[]string", "0-5"),
        Field("timeout_ms", "int32"),
    ]),
    response=Message("DeleteTopicsResponse", 20, valid="1-6", flexible="4+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("responses", "[]DeletableTopicResult", fields=[
            Field("name", "string", nullable="6+"),
            Field("topic_id", "uuid", "6+"),
            Field("error_code", "int16"),
            Field("error_message", "string", "5+", nullable="5+", default=None),
        ]),
    ]),
)
