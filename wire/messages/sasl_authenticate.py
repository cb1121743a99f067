"""SaslAuthenticate (key 36): v0-2.

v1 adds session_lifetime_ms; v2 is the first flexible version.
"""

from wire.schema import Api, Field, Message

SASL_AUTHENTICATE = Api(
    36,
    "SaslAuthenticate",
    request=Message("SaslAuthenticateRequest", 36, valid="0-2", flexible="2+", fields=[
        Field("auth_bytes", "bytes"),
    ]),
    response=Message("SaslAuthenticateResponse", 36, valid="0-2", flexible="2+", fields=[
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("auth_bytes", "bytes"),
        Field("session_lifetime_ms", "int64", "1+"),
    ]),
)
