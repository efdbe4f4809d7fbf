"""The text content of a tool result: the structured JSON rendered as short markdown (issue 15).

A model reads the text content; JSON repeats every key in every list item. This renders the same facts —
every number, id and string of the structured content — as `key: value` lines and one markdown table per
list of objects (keys once, in the header; a value shared by every row once, above it). Nulls, empty
lists and false caution flags (`truncated`, `suppressed`, `small`) are left out: they carry no fact the
schema does not already imply. Measured on the five journeys (docs/ARCHITECTURE.md, issue 15).
"""

from __future__ import annotations

from typing import Any

Scalar = str | int | float | bool | None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _fmt(value: Any) -> str:
    """One cell or value: numbers as written, intervals as `[lo, hi]`, lists joined, text on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, str):
        return value.replace("\n", " ").replace("|", "\\|")
    if isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return f"[{_fmt(value[0])}, {_fmt(value[1])}]"
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k} {_fmt(v)}" for k, v in _flat(value).items() if _kept(v))
    return str(value)


#: Caution flags: shown when set, left out when false (their absence says "no").
FLAGS = frozenset({"truncated", "suppressed", "small"})


def _kept(value: Any) -> bool:
    return value is not None and value != [] and value != {} and value != ""


def _flat(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects flattened into dotted keys (`evidence.rate`); lists stay values."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if key in FLAGS and value is False:
            continue
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


def _records(items: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Keys (in first-seen order, only those with a value somewhere) and the formatted values per item."""
    flat = [_flat(r) for r in items]
    keys: list[str] = []
    for row in flat:
        keys += [k for k in row if k not in keys]
    keys = [k for k in keys if any(_kept(row.get(k)) for row in flat)]
    return keys, [[_cell(row.get(k)) for k in keys] for row in flat]


def _cell(value: Any) -> str:
    if not _kept(value):
        return ""
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "; ".join(" ".join(vals) for vals in _records(value)[1])
    return _fmt(value)


def _header(key: str, values: list[Any]) -> str:
    """A column of nested records names their keys once: `top_values[value baseline_share …]`."""
    nested = [v for v in values if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    return f"{key}[{' '.join(_records(sum(nested, []))[0])}]" if nested else key


def _table(rows: list[dict[str, Any]]) -> list[str]:
    """A markdown table; a column with one value in every row (of three or more) is said once above it."""
    keys, cells = _records(rows)
    if not keys:
        return []
    flat = [_flat(r) for r in rows]
    same = [i for i in range(len(keys)) if len(rows) >= 3 and len({row[i] for row in cells}) == 1]
    lines = [f"every row: {'; '.join(f'{keys[i]} {cells[0][i]}' for i in same)}"] if same else []
    kept = [i for i in range(len(keys)) if i not in same]
    if not kept:
        return lines
    header = [_header(keys[i], [row.get(keys[i]) for row in flat]) for i in kept]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(kept)]
    lines += ["| " + " | ".join(row[i] for i in kept) + " |" for row in cells]
    return lines


def _lines(obj: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    later: list[str] = []
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if not _kept(value) or (key in FLAGS and value is False):
            continue
        if isinstance(value, dict):
            if all(_is_scalar(v) or _is_numbers(v) for v in value.values()):
                out.append(f"{name}: {_fmt(value)}")
            else:
                later += _lines(value, f"{name}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            later += ["", f"{name} ({len(value)}):", *_table(value)]
        else:
            out.append(f"{name}: {_fmt(value)}")
    return out + later


def _is_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_scalar(v) for v in value)


def result_text(data: dict[str, Any]) -> str:
    """The text content of a tool result (what the model reads): the markdown rendering of `data`."""
    return to_markdown(data)


def to_markdown(data: dict[str, Any]) -> str:
    """`data` (a result's JSON) as `key: value` lines and markdown tables, every fact kept (module doc)."""
    return "\n".join(_lines(data)).strip()
