"""An error answer for any API and version, built from the wire/messages declarations (Kafka's
AbstractRequest.getErrorResponse, generically): the error goes in every `error_code` of the response
(top level for the group APIs, per partition for Produce/Fetch/ListOffsets/OffsetCommit, per topic
for CreateTopics, and both where Kafka sets both, as Fetch v7+), `error_message` gets the message
where the response has one, and each response array mirrors the request array it answers (the
same topics and partitions, their keys copied: `partition` in a Fetch request becomes
`partition_index` in the answer).

Pairing a response array with a request array: the request array at the same level with the most
key fields in common (names, ids, indexes), the first declared on a tie; a request array of
scalars (DescribeGroups' `groups`, FindCoordinator's `coordinator_keys`, OffsetFetch's
`partition_indexes`) fills the key field of each answered struct. Fields the request does not
give take their declared default, offsets and timestamps -1 (Kafka's "unknown").
"""

from __future__ import annotations

from wire.schema import Field, Message

_SYNONYMS = {"partition": "partition_index", "index": "partition_index", "topic": "name", "topic_name": "name",
             "key": "key", "group_id": "group_id", "transactional_id": "transactional_id"}
_STRING_KEYS = ("name", "group_id", "key", "transactional_id", "topic", "topic_name", "resource_name")
_INT_KEYS = ("partition_index", "partition", "index", "broker_id", "node_id")
_UNKNOWN = ("offset", "timestamp", "watermark", "leader_id", "leader_epoch", "epoch", "producer_id")
_PRODUCE = 0


def _norm(name: str) -> str:
    return _SYNONYMS.get(name, name)


def _present(fields, version) -> list[Field]:
    return [f for f in fields if f.present_in(version)]


def error_response(api_key: int, request_message: Message, response_message: Message, version: int, request,
                   error: int, message: str | None = None) -> dict | None:
    """The response answering `request` with `error` everywhere (None where Kafka sends none: acks=0)."""
    if api_key == _PRODUCE and getattr(request, "acks", 1) == 0:
        return None
    return _struct(response_message.fields, request_message.fields, request, version, error, message)


def _struct(resp_fields, req_fields, req, version, error, message) -> dict:
    req_present = {_norm(f.name): f for f in _present(req_fields, version)} if req is not None else {}
    out = {}
    for f in _present(resp_fields, version):
        if f.name == "error_code" or (f.name.endswith("_error_code") and f.type == "int16" and f.tag is None):
            out[f.name] = error
        elif f.name == "error_message":
            out[f.name] = message
        elif f.name == "throttle_time_ms":
            out[f.name] = 0
        elif f.is_array and f.is_struct:
            source = _counterpart(f, req_fields, version) if req is not None else None
            if source is None:
                out[f.name] = []
                continue
            elements = getattr(req, source.name, None) or ()
            if source.is_struct:
                out[f.name] = [_struct(f.fields, source.fields, e, version, error, message) for e in elements]
            else:
                key = _scalar_key(f, version, source)
                out[f.name] = [{**_struct(f.fields, (), None, version, error, message), key: e} for e in elements]
        elif f.is_struct:  # a tagged one (KIP-951's current_leader) stays out: the leader is not known
            out[f.name] = f.default if f.tag is not None else _struct(f.fields, (), None, version, error, message)
        else:
            src = req_present.get(_norm(f.name))
            if src is not None and not src.is_array and src.type == f.type:
                out[f.name] = getattr(req, src.name)
            else:
                out[f.name] = _unknown(f)
    return out


def _unknown(f: Field):
    if f.type in ("int64", "int32") and f.default == 0 and any(word in f.name for word in _UNKNOWN):
        return -1
    return f.default


def _keys(fields, version) -> set[str]:
    return {_norm(f.name) for f in _present(fields, version) if not f.is_array and not f.is_struct}


def _counterpart(f: Field, req_fields, version) -> Field | None:
    """The request array this response array answers."""
    best, best_score = None, 0
    want = _keys(f.fields, version)
    for r in _present(req_fields, version):
        if not r.is_array:
            continue
        if r.is_struct:
            score = len(want & _keys(r.fields, version))
        else:
            score = 1 if _scalar_key(f, version, r) else 0
        if score and r.name == f.name:
            score += 100
        if score > best_score:
            best, best_score = r, score
    return best


def _scalar_key(f: Field, version: int, scalar_array: Field) -> str | None:
    names = [x.name for x in _present(f.fields, version)]
    keys = _INT_KEYS if scalar_array.element_type == "int32" else _STRING_KEYS if scalar_array.element_type == "string" else ()
    return next((k for k in keys if k in names), None)
