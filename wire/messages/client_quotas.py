"""DescribeClientQuotas (key 48): v0-1 and AlterClientQuotas (key 49): v0-1; v1 of each is the first
flexible version. Entities are (entity_type, entity_name) pairs: user, client-id, ip; a null name is
the entity type's default. Match types: 0 exact name, 1 default, 2 any specified.
"""

from wire.schema import Api, Field, Message

DESCRIBE_CLIENT_QUOTAS = Api(
    48,
    "DescribeClientQuotas",
    request=Message("DescribeClientQuotasRequest", 48, valid="0-1", flexible="1+", fields=[
        Field("components", "[]ComponentData", fields=[
            Field("entity_type", "string"),
            Field("match_type", "int8"),
            Field("match", "string", nullable="0+"),
        ]),
        Field("strict", "bool"),
    ]),
    response=Message("DescribeClientQuotasResponse", 48, valid="0-1", flexible="1+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("entries", "[]EntryData", nullable="0+", fields=[
            Field("entity", "[]EntityData", fields=[
                Field("entity_type", "string"),
                Field("entity_name", "string", nullable="0+"),
            ]),
            Field("values", "[]ValueData", fields=[
                Field("key", "string"),
                Field("value", "float64"),
            ]),
        ]),
    ]),
)

ALTER_CLIENT_QUOTAS = Api(
    49,
    "AlterClientQuotas",
    request=Message("AlterClientQuotasRequest", 49, valid="0-1", flexible="1+", fields=[
        Field("entries", "[]EntryData", fields=[
            Field("entity", "[]EntityData", fields=[
                Field("entity_type", "string"),
                Field("entity_name", "string", nullable="0+"),
            ]),
            Field("ops", "[]OpData", fields=[
                Field("key", "string"),
                Field("value", "float64"),
                Field("remove", "bool"),
            ]),
        ]),
        Field("validate_only", "bool"),
    ]),
    response=Message("AlterClientQuotasResponse", 49, valid="0-1", flexible="1+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("entries", "[]EntryData", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
            Field("entity", "[]EntityData", fields=[
                Field("entity_type", "string"),
                Field("entity_name", "string", nullable="0+"),
            ]),
        ]),
    ]),
)
