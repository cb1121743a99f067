"""DescribeConfigs (key 32): v0-4 (v0 was removed upstream; declared as legacy so aiokafka-era clients are served).

resource_type is 2 for a topic, 4 for a broker (8 broker logger); null configuration_keys asks for
every config. v1 adds include_synonyms, config_source and synonyms (is_default is gone); v2 is the
same as v1; v3 adds include_documentation, config_type and documentation; v4 is the first flexible
version. v0 had is_default instead of config_source.
"""

from wire.schema import Api, Field, Message

DESCRIBE_CONFIGS = Api(
    32,
    "DescribeConfigs",
    request=Message("DescribeConfigsRequest", 32, valid="1-4", flexible="4+", legacy="0", fields=[
        Field("resources", "[]DescribeConfigsResource", fields=[
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
            Field("configuration_keys", "[]string", nullable="0+"),
        ]),
        Field("include_synonyms", "bool", "1+", default=False),
        Field("include_documentation", "bool", "3+", default=False),
    ]),
    response=Message("DescribeConfigsResponse", 32, valid="1-4", flexible="4+", legacy="0", fields=[
        Field("throttle_time_ms", "int32"),
        Field("results", "[]DescribeConfigsResult", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
            Field("configs", "[]DescribeConfigsResourceResult", fields=[
                Field("name", "string"),
                Field("value", "string", nullable="0+"),
                Field("read_only", "bool"),
                Field("is_default", "bool", "0"),  # v0 only (removed upstream with v0; kept to serve it)
                Field("config_source", "int8", "1+", default=-1),
                Field("is_sensitive", "bool"),
                Field("synonyms", "[]DescribeConfigsSynonym", "1+", fields=[
                    Field("name", "string", "1+"),
                    Field("value", "string", "1+", nullable="0+"),
                    Field("source", "int8", "1+"),
                ]),
                Field("config_type", "int8", "3+"),
                Field("documentation", "string", "3+", nullable="0+"),
            ]),
        ]),
    ]),
)
