"""DescribeAcls (key 29), CreateAcls (key 30), DeleteAcls (key 31): v1-3 each; v2 is the first flexible
version. v1 added the resource pattern type (LITERAL 3 by default, PREFIXED 4; filters also ANY 1 and
MATCH 2).
"""

from wire.schema import Api, Field, Message


def _filter_fields() -> list[Field]:
    """An ACL binding filter: DescribeAcls' whole request and each DeleteAcls filter (the same fields)."""
    return [
        Field("resource_type_filter", "int8"),
        Field("resource_name_filter", "string", nullable="0+"),
        Field("pattern_type_filter", "int8", "1+", default=3),
        Field("principal_filter", "string", nullable="0+"),
        Field("host_filter", "string", nullable="0+"),
        Field("operation", "int8"),
        Field("permission_type", "int8"),
    ]

DESCRIBE_ACLS = Api(
    29,
    "DescribeAcls",
    request=Message("DescribeAclsRequest", 29, valid="1-3", flexible="2+", fields=_filter_fields()),
    response=Message("DescribeAclsResponse", 29, valid="1-3", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("resources", "[]DescribeAclsResource", fields=[
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
            Field("pattern_type", "int8", "1+", default=3),
            Field("acls", "[]AclDescription", fields=[
                Field("principal", "string"),
                Field("host", "string"),
                Field("operation", "int8"),
                Field("permission_type", "int8"),
            ]),
        ]),
    ]),
)

CREATE_ACLS = Api(
    30,
    "CreateAcls",
    request=Message("CreateAclsRequest", 30, valid="1-3", flexible="2+", fields=[
        Field("creations", "[]AclCreation", fields=[
            Field("resource_type", "int8"),
            Field("resource_name", "string"),
            Field("resource_pattern_type", "int8", "1+", default=3),
            Field("principal", "string"),
            Field("host", "string"),
            Field("operation", "int8"),
            Field("permission_type", "int8"),
        ]),
    ]),
    response=Message("CreateAclsResponse", 30, valid="1-3", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("results", "[]AclCreationResult", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
        ]),
    ]),
)

DELETE_ACLS = Api(
    31,
    "DeleteAcls",
    request=Message("DeleteAclsRequest", 31, valid="1-3", flexible="2+", fields=[
        Field("filters", "[]DeleteAclsFilter", fields=_filter_fields()),
    ]),
    response=Message("DeleteAclsResponse", 31, valid="1-3", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("filter_results", "[]DeleteAclsFilterResult", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
            Field("matching_acls", "[]DeleteAclsMatchingAcl", fields=[
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+"),
                Field("resource_type", "int8"),
                Field("resource_name", "string"),
                Field("pattern_type", "int8", "1+", default=3),
                Field("principal", "string"),
                Field("host", "string"),
                Field("operation", "int8"),
                Field("permission_type", "int8"),
            ]),
        ]),
    ]),
)
