"""Message declarations as data: one `Message` per Kafka request or response, fields gated by version.

A declaration reads like Kafka's own JSON message definitions, in Python and in snake_case:

    ProduceRequest = Message("ProduceRequest", api_key=0, valid="0-11", flexible="9+", fields=[
        Field("transactional_id", "string", "3+", nullable="3+", default=None),
        Field("acks", "int16"),
        Field("topic_data", "[]TopicProduceData", fields=[
            Field("name", "string"),
            Field("partition_data", "[]PartitionProduceData", fields=[
                Field("index", "int32"),
                Field("records", "records", nullable="0+"),
            ]),
        ]),
    ])

Types: int8 int16 int32 int64 uint16 float64 bool string bytes records uuid, `[]<scalar>`,
`[]<StructName>` (an array of structs, with `fields=`) or `<StructName>` (one nested struct, with
`fields=`). A field is tagged in its `versions` when it has `tag=`. Codecs are derived from these
declarations by `wire.codec`; nothing here knows about bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from functools import cached_property
from typing import Any

SCALARS = frozenset(
    {"int8", "int16", "int32", "int64", "uint16", "float64", "bool", "string", "bytes", "records", "uuid"}
)
ZERO_UUID = b"\x00" * 16


@dataclass(frozen=True)
class Versions:
    """An inclusive version range; `high` None means open-ended ("3+"); empty when low > high."""

    low: int
    high: int | None

    @classmethod
    def parse(cls, text: str | None) -> "Versions":
        if text is None or text == "none":
            return cls(1, 0)
        if text.endswith("+"):
            return cls(int(text[:-1]), None)
        if "-" in text:
            lo, hi = text.split("-")
            return cls(int(lo), int(hi))
        return cls(int(text), int(text))

    def __contains__(self, version: int) -> bool:
        return version >= self.low and (self.high is None or version <= self.high)

    def __str__(self) -> str:
        if self.high is not None and self.low > self.high:
            return "none"
        if self.high is None:
            return f"{self.low}+"
        return f"{self.low}-{self.high}" if self.low != self.high else str(self.low)


def _default_for(type_: str, nullable: bool) -> Any:
    if type_.startswith("[]"):
        return []
    if type_ in ("int8", "int16", "int32", "int64", "uint16"):
        return 0
    return {
        "float64": 0.0,
        "bool": False,
        "string": "",
        "bytes": b"",
        "records": None,
        "uuid": ZERO_UUID,
    }.get(type_, None)


_UNSET = object()


class Field:
    """One field of a message or nested struct."""

    __slots__ = ("name", "type", "versions", "nullable", "tag", "default", "fields")

    def __init__(
        self,
        name: str,
        type: str,
        versions: str = "0+",
        *,
        nullable: str | None = None,
        tag: int | None = None,
        default: Any = _UNSET,
        fields: list["Field"] | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.versions = Versions.parse(versions)
        self.nullable = Versions.parse(nullable)
        self.tag = tag
        self.fields = tuple(fields) if fields is not None else None
        if self.is_struct and self.fields is None:
            raise ValueError(f"field {name}: struct type {type} needs fields=")
        if not self.is_struct and self.fields is not None:
            raise ValueError(f"field {name}: scalar type {type} takes no fields=")
        self.default = _default_for(type, False) if default is _UNSET else default

    @property
    def element_type(self) -> str:
        return self.type[2:] if self.type.startswith("[]") else self.type

    @property
    def is_array(self) -> bool:
        return self.type.startswith("[]")

    @property
    def is_struct(self) -> bool:
        return self.element_type not in SCALARS

    def present_in(self, version: int) -> bool:
        return version in self.versions

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.type!r}, {str(self.versions)!r})"


@dataclass(frozen=True, eq=False)
class Message:
    """A request or response body: Kafka's `validVersions` and `flexibleVersions`, and its fields."""

    name: str
    api_key: int
    valid: str
    flexible: str
    fields: list[Field] = dc_field(default_factory=list)
    legacy: str = "none"  # versions Kafka removed but still advertises (Produce 0-2): decoded only to refuse

    @cached_property  # parsed once: every request asks (header decode, response header)
    def valid_versions(self) -> Versions:
        return Versions.parse(self.valid)

    def decodable(self, version: int) -> bool:
        return version in self.valid_versions or version in Versions.parse(self.legacy)

    @cached_property
    def flexible_versions(self) -> Versions:
        return Versions.parse(self.flexible)

    def is_flexible(self, version: int) -> bool:
        return version in self.flexible_versions


@dataclass(frozen=True, eq=False)
class Api:
    """A request/response pair under one api key."""

    key: int
    name: str
    request: Message
    response: Message
