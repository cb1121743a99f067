"""Every declaration in `wire.messages.APIS` matches Kafka's JSON message definitions, version by version.

Two sources of truth, each used for the versions its `validVersions` defines: Apache Kafka's JSON beside
the repository (`../shared/kafka-protocol/messages/`, skipped when absent) and the JSON that kafka-python
ships in its wheel. A declared version that neither defines is an error.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from wire.messages import APIS
from wire.schema import SCALARS, ZERO_UUID, Field, Message, Versions

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_DIR = REPO_ROOT.parent / "shared" / "kafka-protocol" / "messages"


def _kafka_python_dir() -> Path | None:
    """kafka-python's shipped JSON, found without importing kafka (which loads every schema)."""
    spec = importlib.util.find_spec("kafka")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "protocol" / "schemas" / "resources"


def snake_case(name: str) -> str:
    """Kafka's JSON name in snake_case, only to compare: `TopicId` -> `topic_id`, `timeoutMs` -> `timeout_ms`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def load_spec(path: Path) -> dict[str, Any]:
    """One JSON message definition, with its whole-line `//` comments stripped."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
    return json.loads(text)


def load_specs(directory: Path | None) -> dict[tuple[int, str], dict[str, Any]]:
    """(api key, "request" | "response") -> definition, for every request/response file in a folder."""
    if directory is None or not directory.is_dir():
        return {}
    specs = {}
    for path in sorted(directory.glob("*.json")):
        spec = load_spec(path)
        if spec.get("type") in ("request", "response") and "apiKey" in spec:
            specs[(spec["apiKey"], spec["type"])] = spec
    return specs


SOURCES = {"upstream": load_specs(UPSTREAM_DIR), "kafka-python": load_specs(_kafka_python_dir())}


def test_at_least_one_spec_source_is_available():
    assert any(SOURCES.values()), f"no JSON message definitions found in {UPSTREAM_DIR} nor in kafka-python"


def _messages() -> list[tuple[str, Message]]:
    return [(kind, getattr(api, kind)) for _, api in sorted(APIS.items()) for kind in ("request", "response")]


def _declared_versions(message: Message) -> range:
    valid = message.valid_versions
    assert valid.high is not None, f"{message.name}: validVersions must be bounded, got {message.valid}"
    return range(valid.low, valid.high + 1)


def _cases() -> list[Any]:
    cases = []
    for kind, message in _messages():
        for version in _declared_versions(message):
            defined_by = [
                source
                for source, specs in SOURCES.items()
                if (message.api_key, kind) in specs
                and version in Versions.parse(specs[(message.api_key, kind)]["validVersions"])
            ]
            for source in defined_by or ["no-spec"]:
                cases.append(pytest.param(kind, message, version, source, id=f"{message.name}-v{version}-{source}"))
    return cases


CASES = _cases()


def _spec_versions(spec_field: dict[str, Any], key: str) -> Versions:
    return Versions.parse(spec_field.get(key, "none"))


def _spec_children(spec_field: dict[str, Any], common: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    element = spec_field["type"].removeprefix("[]")
    if element in SCALARS:
        return None
    if "fields" in spec_field:
        return spec_field["fields"]
    assert element in common, f"struct type {element} has no fields and is not a commonStruct"
    return common[element]


Row = tuple[str, str, Any]  # (path, "type nullable=.. tag=..", (type name, default) or None when not compared)


def spec_rows(fields: list[dict[str, Any]], version: int, common: dict[str, list[dict[str, Any]]], path: str = "") -> list[Row]:
    """The spec's fields present at `version`, nested structs flattened in order."""
    rows = []
    for f in fields:
        if version not in _spec_versions(f, "versions"):
            continue
        name = path + snake_case(f["name"])
        tag = f.get("tag") if version in _spec_versions(f, "taggedVersions") else None
        nullable = version in _spec_versions(f, "nullableVersions")
        comparable, default = _spec_default(f)
        rows.append((name, f"{f['type']} nullable={nullable} tag={tag}", _typed(default) if comparable else None))
        children = _spec_children(f, common)
        if children is not None:
            rows += spec_rows(children, version, common, name + ("[]." if f["type"].startswith("[]") else "."))
    return rows


def declared_rows(fields: tuple[Field, ...] | list[Field], version: int, path: str = "") -> list[Row]:
    """The same rows, from a declaration."""
    rows = []
    for f in fields:
        if not f.present_in(version):
            continue
        name = path + f.name
        rows.append((name, f"{f.type} nullable={version in f.nullable} tag={f.tag}", _typed(f.default)))
        if f.is_struct:
            rows += declared_rows(f.fields, version, name + ("[]." if f.is_array else "."))
    return rows


def _typed(value: Any) -> tuple[str, Any]:
    return type(value).__name__, value


def _spec_default(spec_field: dict[str, Any]) -> tuple[bool, Any]:
    """(comparable, value) of a field's default as Kafka's generator reads it."""
    type_ = spec_field["type"]
    raw = spec_field.get("default")
    if raw == "null":
        return True, None
    if type_.startswith("[]"):
        return True, []
    if type_ not in SCALARS:
        return False, None  # a nested struct defaults to an instance of itself: nothing to compare
    if type_ == "bool":
        return True, raw in (True, "true")
    if type_.startswith("int") or type_ == "uint16":
        return True, 0 if raw is None else int(str(raw), 0)
    if type_ == "float64":
        return True, 0.0 if raw is None else float(raw)
    if type_ == "string":
        return True, "" if raw is None else raw
    return True, {"bytes": b"", "records": None, "uuid": ZERO_UUID}[type_]


# Fields upstream renamed without changing their encoding, for runs without ../shared (with it,
# with_upstream_names finds these by itself). kafka-python's name -> upstream's, per message.
UPSTREAM_RENAMES = {
    ("TxnOffsetCommitRequest", "generation_id"): "generation_id_or_member_epoch",
}


def with_upstream_names(rows: list[Row], upstream: list[Row]) -> list[Row]:
    """kafka-python ships an older snapshot of Kafka's JSON: where upstream renamed a field that it
    still encodes identically (same order, types, nullability, tags, defaults), upstream's name is
    the one to declare."""
    if [r[1:] for r in rows] == [r[1:] for r in upstream]:
        return upstream
    return rows


def _spec(source: str, kind: str, message: Message) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    spec = SOURCES[source][(message.api_key, kind)]
    return spec, {s["name"]: s["fields"] for s in spec.get("commonStructs", [])}


def _expected(kind: str, message: Message, version: int, source: str) -> tuple[dict[str, Any], list[Row]]:
    if source == "no-spec":
        if not SOURCES["upstream"]:
            pytest.skip(f"only upstream's JSON defines {message.name} v{version}, and {UPSTREAM_DIR} is absent")
        pytest.fail(f"{message.name}: no spec source defines this version (valid {message.valid})")
    spec, common = _spec(source, kind, message)
    rows = spec_rows(spec["fields"], version, common)
    upstream = SOURCES["upstream"].get((message.api_key, kind))
    if source != "upstream" and upstream and version in Versions.parse(upstream["validVersions"]):
        rows = with_upstream_names(rows, spec_rows(upstream["fields"], version, _spec("upstream", kind, message)[1]))
    elif source != "upstream" and not SOURCES["upstream"]:
        rows = [(UPSTREAM_RENAMES.get((message.name, path), path), *rest) for path, *rest in rows]
    return spec, rows


def _shape(rows: list[Row]) -> list[str]:
    return [f"{p}: {w}" for p, w, _ in rows]


def _defaults(declared: list[Row], expected: list[Row]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(declared, expected) defaults of the fields whose spec default is comparable."""
    want = {p: d for p, _, d in expected if d is not None}
    have = {p: d for p, _, d in declared}
    return {p: have.get(p) for p in want}, want


@pytest.mark.parametrize("kind, message, version, source", CASES)
def test_declaration_matches_spec(kind, message, version, source):
    spec, expected = _expected(kind, message, version, source)
    assert message.api_key == spec["apiKey"]
    assert message.name == spec["name"]
    assert message.is_flexible(version) == (version in Versions.parse(spec["flexibleVersions"]))
    assert _shape(declared_rows(message.fields, version)) == _shape(expected)


@pytest.mark.parametrize("kind, message, version, source", CASES)
def test_defaults_match_spec(kind, message, version, source):
    _, expected = _expected(kind, message, version, source)
    declared, wanted = _defaults(declared_rows(message.fields, version), expected)
    assert declared == wanted


def test_api_keys_are_unique_and_match_their_messages():
    assert APIS, "no API declared"
    for key, api in APIS.items():
        assert api.key == key == api.request.api_key == api.response.api_key, api.name


@pytest.mark.parametrize("api", [pytest.param(api, id=api.name) for _, api in sorted(APIS.items())])
def test_request_and_response_agree_on_versions(api):
    assert str(api.request.valid_versions) == str(api.response.valid_versions)
    assert str(api.request.flexible_versions) == str(api.response.flexible_versions)
    assert api.request.name == api.name + "Request"
    assert api.response.name == api.name + "Response"


def test_snake_case_follows_kafka_names():
    names = ("TopicId", "ThrottleTimeMs", "IsrNodes", "timeoutMs", "Enable2Pc", "ZkMigrationReady")
    assert [snake_case(n) for n in names] == [
        "topic_id", "throttle_time_ms", "isr_nodes", "timeout_ms", "enable2_pc", "zk_migration_ready",
    ]


SAMPLE_SPEC = [
    {"name": "TopicId", "type": "uuid", "versions": "1+"},
    {"name": "Rack", "type": "string", "versions": "0+", "nullableVersions": "2+", "default": "null"},
    {"name": "Leader", "type": "Leader", "versions": "3+", "taggedVersions": "3+", "tag": 0,
     "fields": [{"name": "LeaderId", "type": "int32", "versions": "3+", "default": "-1"}]},
]


def test_rows_accept_a_right_declaration():
    right = [
        Field("topic_id", "uuid", "1+"),
        Field("rack", "string", nullable="2+", default=None),
        Field("leader", "Leader", "3+", tag=0, fields=[Field("leader_id", "int32", "3+", default=-1)]),
    ]
    for version in range(4):
        expected = spec_rows(SAMPLE_SPEC, version, {})
        assert _shape(declared_rows(right, version)) == _shape(expected)
        declared, wanted = _defaults(declared_rows(right, version), expected)
        assert declared == wanted


def test_rows_detect_a_wrong_declaration():
    wrong = [
        Field("rack", "string", nullable="1+", default=""),
        Field("topic_id", "uuid", "1+"),
        Field("leader", "Leader", "3+", fields=[Field("leader_id", "int32", "3+")]),
    ]
    assert _shape(declared_rows(wrong, 1)) != _shape(spec_rows(SAMPLE_SPEC, 1, {}))  # order
    assert _shape(declared_rows(wrong[:1], 1)) != _shape(spec_rows(SAMPLE_SPEC[1:2], 1, {}))  # nullability
    assert _shape(declared_rows(wrong[2:], 3)) != _shape(spec_rows(SAMPLE_SPEC[2:], 3, {}))  # tag
    declared, wanted = _defaults(declared_rows(wrong, 3), spec_rows(SAMPLE_SPEC, 3, {}))
    assert declared != wanted


def test_upstream_names_apply_only_to_an_identical_encoding():
    old = spec_rows([{"name": "GenerationId", "type": "int32", "versions": "0+", "default": "-1"}], 0, {})
    renamed = spec_rows([{"name": "GenerationIdOrMemberEpoch", "type": "int32", "versions": "0+", "default": "-1"}], 0, {})
    retyped = spec_rows([{"name": "GenerationIdOrMemberEpoch", "type": "int64", "versions": "0+", "default": "-1"}], 0, {})
    assert with_upstream_names(old, renamed) == renamed
    assert with_upstream_names(old, retyped) == old
