"""DescribeUserScramCredentials (key 50): v0 and AlterUserScramCredentials (key 51): v0 (KIP-554), both
flexible. Mechanisms travel as int8: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 (0 unknown). Upsertions carry the
salt and the salted password (the client ran PBKDF2), never the password.
"""

from wire.schema import Api, Field, Message

DESCRIBE_USER_SCRAM_CREDENTIALS = Api(
    50,
    "DescribeUserScramCredentials",
    request=Message("DescribeUserScramCredentialsRequest", 50, valid="0", flexible="0+", fields=[
        Field("users", "[]UserName", nullable="0+", fields=[
            Field("name", "string"),
        ]),
    ]),
    response=Message("DescribeUserScramCredentialsResponse", 50, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("results", "[]DescribeUserScramCredentialsResult", fields=[
            Field("user", "string"),
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
            Field("credential_infos", "[]CredentialInfo", fields=[
                Field("mechanism", "int8"),
                Field("iterations", "int32"),
            ]),
        ]),
    ]),
)

ALTER_USER_SCRAM_CREDENTIALS = Api(
    51,
    "AlterUserScramCredentials",
    request=Message("AlterUserScramCredentialsRequest", 51, valid="0", flexible="0+", fields=[
        Field("deletions", "[]ScramCredentialDeletion", fields=[
            Field("name", "string"),
            Field("mechanism", "int8"),
        ]),
        Field("upsertions", "[]ScramCredentialUpsertion", fields=[
            Field("name", "string"),
            Field("mechanism", "int8"),
            Field("iterations", "int32"),
            Field("salt", "bytes"),
            Field("salted_password", "bytes"),
        ]),
    ]),
    response=Message("AlterUserScramCredentialsResponse", 51, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("results", "[]AlterUserScramCredentialsResult", fields=[
            Field("user", "string"),
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+"),
        ]),
    ]),
)
