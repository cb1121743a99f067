"""What one string may hold so that every version of every API can still carry it.

A string the broker keeps and later hands to other clients (a group id, a member id, a protocol name)
travels in versions with an int16 length (the non-flexible ones) as well as in compact ones: ListGroups
v0-2 lists every group id, DescribeGroups v0-4 every member. Kafka's serializers throw on a longer
string ("field is too long to be serialized") when they answer someone else; Ottla refuses it at the
request that brings it in, so no later answer can fail. Strings the broker makes from a client's own
(a member id from a client id, an error message quoting a name) are cut to fit instead.
"""

from __future__ import annotations

CLASSIC_STRING_MAX_BYTES = 0x7FFF  # an int16 length prefix
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def fits_every_version(text: str | None) -> bool:
    """Whether the string can be encoded with an int16 length (every version of every API)."""
    return text is None or len(text) <= CLASSIC_STRING_MAX_BYTES // 4 or len(text.encode("utf-8")) <= CLASSIC_STRING_MAX_BYTES


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of text whose UTF-8 form is at most max_bytes (never half a character)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def fit_message(message: str | None) -> str | None:
    """An error message cut to what every version can carry (it may quote a client's long name)."""
    return None if message is None else truncate_utf8(message, CLASSIC_STRING_MAX_BYTES)


def clamp_int64(value: int) -> int:
    """A sum of two int64 fields (a timestamp plus a retention) clamped back into int64, not wrapped."""
    return max(INT64_MIN, min(INT64_MAX, value))
