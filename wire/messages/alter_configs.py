"""AlterConfigs (key 33): v0-2. Replaces every dynamic config of each resource (deprecated by Kafka in
favour of IncrementalAlterConfigs); v1 is the same as v0 (throttling after quota violation); v2 is the
first flexible version. No BROKER_LOGGER resources (Kafka refuses them here).
"""

from wire.schema import Api, Field, Message

ALTER_CONFIGS = Api(
    33,
    "AlterConfigs",
    request=Message("AlterConfigsRequest", 33, valid="0-2", flexible="2+", fields=[
        Field("resources", "[]AlterConfigsResource", fields=[
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
            Field("configs", "[]AlterableConfig", fields=[
                Field("name", "string"),
                Field("value", "string", nullable="0+"),
            ]),
        ]),
        Field("validate_only", "bool"),
    ]),
    response=Message("AlterConfigsResponse", 33, valid="0-2", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("responses", "[]AlterConfigsResourceResponse", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
        ]),
    ]),
)
