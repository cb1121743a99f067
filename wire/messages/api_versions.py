"""ApiVersions (key 18): v0-5. The response always uses response header v0, even when flexible.

v3 is the first flexible version (client software name and version, features); v4 lets a supported
feature's minimum be 0 (KAFKA-17011); v5 carries the cluster and node the client means to reach (KIP-1242).
"""

from wire.schema import Api, Field, Message

API_VERSIONS = Api(
    18,
    "ApiVersions",
    request=Message("ApiVersionsRequest", 18, valid="0-5", flexible="3+", fields=[
        Field("client_software_name", "string", "3+"),
        Field("client_software_version", "string", "3+"),
        Field("cluster_id", "string", "5+", nullable="5+", default=None),
        Field("node_id", "int32", "5+", default=-1),
    ]),
    response=Message("ApiVersionsResponse", 18, valid="0-5", flexible="3+", fields=[
        Field("error_code", "int16"),
        Field("api_keys", "[]ApiVersion", fields=[
            Field("api_key", "int16"),
            Field("min_version", "int16"),
            Field("max_version", "int16"),
        ]),
        Field("throttle_time_ms", "int32", "1+"),
        Field("supported_features", "[]SupportedFeatureKey", "3+", tag=0, fields=[
            Field("name", "string", "3+"),
            Field("min_version", "int16", "3+"),
            Field("max_version", "int16", "3+"),
        ]),
        Field("finalized_features_epoch", "int64", "3+", tag=1, default=-1),
        Field("finalized_features", "[]FinalizedFeatureKey", "3+", tag=2, fields=[
            Field("name", "string", "3+"),
            Field("max_version_level", "int16", "3+"),
            Field("min_version_level", "int16", "3+"),
        ]),
        Field("zk_migration_ready", "bool", "3+", tag=3, default=False),
    ]),
)
