"""IncrementalAlterConfigs (key 44): v0-1. Per config: config_operation 0 SET, 1 DELETE, 2 APPEND,
3 SUBTRACT (the last two for LIST configs only); v1 is the first flexible version.
"""

from wire.schema import Api, Field, Message

INCREMENTAL_ALTER_CONFIGS = Api(
    44,
    "IncrementalAlterConfigs",
    request=Message("IncrementalAlterConfigsRequest", 44, valid="0-1", flexible="1+", fields=[
        Field("resources", "[]AlterConfigsResource", fields=[
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
            Field("configs", "[]AlterableConfig", fields=[
                Field("name", "string"),
                Field("config_operation", "int8"),
                Field("value", "string", nullable="0+"),
            ]),
        ]),
        Field("validate_only", "bool"),
    ]),
    response=Message("IncrementalAlterConfigsResponse", 44, valid="0-1", flexible="1+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("responses", "[]AlterConfigsResourceResponse", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
        ]),
    ]),
)
