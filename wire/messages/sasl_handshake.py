"""SaslHandshake (key 17): v0-1.

v0 is followed by raw SASL tokens on the socket; from v1 the tokens travel in SaslAuthenticate.
"""

from wire.schema import Api, Field, Message

SASL_HANDSHAKE = Api(
    17,
    "SaslHandshake",
    request=Message("SaslHandshakeRequest", 17, valid="0-1", flexible="none", fields=[
        Field("mechanism", "string"),
    ]),
    response=Message("SaslHandshakeResponse", 17, valid="0-1", flexible="none", fields=[
        Field("error_code", "int16"),
        Field("mechanisms", "[]string"),
    ]),
)
