"""Delegation tokens: CreateDelegationToken (key 38): v1-3, RenewDelegationToken (39): v1-2,
ExpireDelegationToken (40): v1-2, DescribeDelegationToken (41): v1-3; all flexible from v2.

v3 of Create and Describe add the owner and token-requester principals (KIP-373).
"""

from wire.schema import Api, Field, Message

_PRINCIPAL = [
    Field("principal_type", "string"),
    Field("principal_name", "string"),
]

CREATE_DELEGATION_TOKEN = Api(
    38,
    "CreateDelegationToken",
    request=Message("CreateDelegationTokenRequest", 38, valid="1-3", flexible="2+", fields=[
        Field("owner_principal_type", "string", "3+", nullable="3+"),
        Field("owner_principal_name", "string", "3+", nullable="3+"),
        Field("renewers", "[]CreatableRenewers", fields=_PRINCIPAL),
        Field("max_lifetime_ms", "int64"),
    ]),
    response=Message("CreateDelegationTokenResponse", 38, valid="1-3", flexible="2+", fields=[
        Field("error_code", "int16"),
        *_PRINCIPAL,
        Field("token_requester_principal_type", "string", "3+"),
        Field("token_requester_principal_name", "string", "3+"),
        Field("issue_timestamp_ms", "int64"),
        Field("expiry_timestamp_ms", "int64"),
        Field("max_timestamp_ms", "int64"),
        Field("token_id", "string"),
        Field("hmac", "bytes"),
        Field("throttle_time_ms", "int32"),
    ]),
)

_HMAC_RESPONSE = [
    Field("error_code", "int16"),
    Field("expiry_timestamp_ms", "int64"),
    Field("throttle_time_ms", "int32"),
]

RENEW_DELEGATION_TOKEN = Api(
    39,
    "RenewDelegationToken",
    request=Message("RenewDelegationTokenRequest", 39, valid="1-2", flexible="2+", fields=[
        Field("hmac", "bytes"),
        Field("renew_period_ms", "int64"),
    ]),
    response=Message("RenewDelegationTokenResponse", 39, valid="1-2", flexible="2+", fields=_HMAC_RESPONSE),
)

EXPIRE_DELEGATION_TOKEN = Api(
    40,
    "ExpireDelegationToken",
    request=Message("ExpireDelegationTokenRequest", 40, valid="1-2", flexible="2+", fields=[
        Field("hmac", "bytes"),
        Field("expiry_time_period_ms", "int64"),
    ]),
    response=Message("ExpireDelegationTokenResponse", 40, valid="1-2", flexible="2+", fields=_HMAC_RESPONSE),
)

DESCRIBE_DELEGATION_TOKEN = Api(
    41,
    "DescribeDelegationToken",
    request=Message("DescribeDelegationTokenRequest", 41, valid="1-3", flexible="2+", fields=[
        Field("owners", "[]DescribeDelegationTokenOwner", nullable="0+", fields=_PRINCIPAL),
    ]),
    response=Message("DescribeDelegationTokenResponse", 41, valid="1-3", flexible="2+", fields=[
        Field("error_code", "int16"),
        Field("tokens", "[]DescribedDelegationToken", fields=[
            *_PRINCIPAL,
            Field("token_requester_principal_type", "string", "3+"),
            Field("token_requester_principal_name", "string", "3+"),
            Field("issue_timestamp", "int64"),
            Field("expiry_timestamp", "int64"),
            Field("max_timestamp", "int64"),
            Field("token_id", "string"),
            Field("hmac", "bytes"),
            Field("renewers", "[]DescribedDelegationTokenRenewer", fields=_PRINCIPAL),
        ]),
        Field("throttle_time_ms", "int32"),
    ]),
)
