"""UpdateFeatures (key 57): v0-2, flexible from v0.

v1 replaces allow_downgrade with upgrade_type (1 upgrade, 2 safe downgrade, 3 unsafe downgrade) and
adds validate_only; v2 drops the per-feature results from the response.
"""

from wire.schema import Api, Field, Message

UPDATE_FEATURES = Api(
    57,
    "UpdateFeatures",
    request=Message("UpdateFeaturesRequest", 57, valid="0-2", flexible="0+", fields=[
        Field("timeout_ms", "int32", default=60000),
        Field("feature_updates", "[]FeatureUpdateKey", fields=[
            Field("feature", "string"),
            Field("max_version_level", "int16"),
            Field("allow_downgrade", "bool", "0"),
            Field("upgrade_type", "int8", "1+", default=1),
        ]),
        Field("validate_only", "bool", "1+"),
    ]),
    response=Message("UpdateFeaturesResponse", 57, valid="0-2", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("results", "[]UpdatableFeatureResult", "0-1", fields=[
            Field("feature", "string"),
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
        ]),
    ]),
)
