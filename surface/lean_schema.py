"""Lean JSON schemas for tools/list: the same contract in fewer tokens (issue 15).

Pydantic writes a `title` for every property and model ("Fit Score"), `anyOf: [{X}, {"type": "null"}]` for
every optional field and `default: null` for every optional argument. A model reads all of that on every
request that lists tools, and none of it says anything the property name and type do not. `lean` rewrites a
schema without them: titles dropped, nullable unions as `"type": [X, "null"]` (or `anyOf` kept when one
branch is a `$ref` or a compound type), `default: null` dropped, and — in output schemas — `required`
lists, defaults, bounds and nested models' descriptions dropped (every field of a result is present; `null`
marks a missing value), homogeneous tuples (intervals) written as arrays, and `"type"` left to `items` or `enum` to say.
Descriptions stay in input schemas, where they carry what a name does not say; output schemas lose theirs
(a client validates a result against its shape; the model reads the result's meaning from its text).
"""

from __future__ import annotations

from typing import Any

_DROP_ALWAYS = ("title",)
#: Validation detail that tells a reader of a result nothing (the server produced it).
_DROP_IN_OUTPUT = ("required", "default", "minimum", "maximum", "minItems", "maxItems", "additionalProperties")


def _nullable(branches: list[Any]) -> dict[str, Any] | None:
    """`{"type": [X, "null"], ...}` for an anyOf of one simple typed branch and null; None otherwise."""
    if len(branches) != 2 or {"type": "null"} not in branches:
        return None
    other = next(b for b in branches if b != {"type": "null"})
    if not isinstance(other, dict) or "$ref" in other or not isinstance(other.get("type"), str):
        return None
    return {**other, "type": [other["type"], "null"]}


def _undescribe(model: dict[str, Any]) -> None:
    """A nested output model without its docstring, its fields' descriptions and its implied object type."""
    model.pop("description", None)
    if "properties" in model:
        model.pop("type", None)
    for prop in model.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("description", None)


def _same(items: Any) -> bool:
    return isinstance(items, list) and bool(items) and all(item == items[0] for item in items)


def lean(schema: Any, *, output: bool = False) -> Any:
    """`schema` without titles, with compact nullable types and without `default: null` (see module doc)."""
    if isinstance(schema, list):
        return [lean(item, output=output) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP_ALWAYS and not isinstance(value, dict):
            continue  # a property *named* "title" is a dict and stays
        if key == "default" and value is None:
            continue
        if output and key in _DROP_IN_OUTPUT:
            continue
        if output and key == "description" and not isinstance(value, dict):
            continue  # a property *named* "description" is a dict and stays
        if key in ("properties", "$defs"):
            out[key] = {name: lean(sub, output=output) for name, sub in value.items()}
            if key == "$defs" and output:  # nested result models: named fields, described at the top level
                for sub in out[key].values():
                    _undescribe(sub)
            continue
        if key == "prefixItems" and _same(value):  # (lo, hi) tuples: an array of numbers
            out["items"] = lean(value[0], output=output)
            continue
        out[key] = lean(value, output=output)
    branches = out.get("anyOf")
    if isinstance(branches, list):
        collapsed = _nullable(branches)
        if collapsed is not None:
            del out["anyOf"]
            out = {**collapsed, **out}
    if output and "items" in out and out.get("type") == "array":
        del out["type"]  # `items` already says it is a list
    if "enum" in out and out.get("type") == "string" and all(isinstance(v, str) for v in out["enum"]):
        del out["type"]  # the enum says it
    return out
