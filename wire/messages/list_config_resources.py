"""ListConfigResources (key 74): v0-1 (flexible from v0). v0 was ListClientMetricsResources: it lists
CLIENT_METRICS subscriptions only and has no resource_types; v1 (KIP-1142) takes resource types
(empty: every supported type) and answers each resource's type.
"""

from wire.schema import Api, Field, Message

LIST_CONFIG_RESOURCES = Api(
    74,
    "ListConfigResources",
    request=Message("ListConfigResourcesRequest", 74, valid="0-1", flexible="0+", fields=[
        Field("resource_types", "[]int8", "1+"),
    ]),
    response=Message("ListConfigResourcesResponse", 74, valid="0-1", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("config_resources", "[]ConfigResource", fields=[
            Field("resource_name", "string"),
            Field("resource_type", "int8", "1+", default=16),
        ]),
    ]),
)
