"""Field-level redaction: money for callers without ``revenue:read``, contact PII for callers without
``pii:read``, and secrets / long values in the arguments written to the audit log.

Redaction keeps the shape of a result: money fields become ``null`` (so result models declare them
``float | None``) and the names of what was removed are listed in a ``redacted`` field, so the model (and
the person reading its answer) knows a figure exists but was withheld rather than missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from icp_mcp.engine.sql import lookup
from icp_mcp.surface.visibility import EMAIL_PATTERN, words_pattern

#: Money fields: revenue we earn from customers (not firmographics such as an account's annual_revenue).
MONEY_FIELDS: frozenset[str] = frozenset({
    "arr", "mrr", "amount", "revenue", "lifetime_revenue", "current_arr", "starting_arr", "peak_arr",
    "expansion_arr", "contraction_arr", "churned_arr", "arr_change", "total_amount", "won_amount",
    "pipeline_amount", "deal_size", "avg_deal_size", "acv", "tcv", "ltv", "total_revenue",
    "value_usd", "arr_usd",
})
#: Names ending like these are money too (annual_revenue is a firmographic and stays visible).
MONEY_SUFFIXES: tuple[str, ...] = ("_arr", "_mrr", "_amount", "_revenue", "_acv", "_usd")
NOT_MONEY: frozenset[str] = frozenset({"annual_revenue"})
#: In lists of named components ({"name": "arr", "value": 123}) these keys name the component.
_COMPONENT_NAME_KEYS = ("name", "component", "field", "metric")
_COMPONENT_VALUE_KEYS = ("value", "raw", "amount", "raw_value")

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
NAME_MASK = "[name]"
SECRET_MASK = "[secret]"


def is_money_field(name: str) -> bool:
    """True when a field of this name holds a revenue figure."""
    key = name.lower()
    if key in NOT_MONEY:
        return False
    return key in MONEY_FIELDS or key.endswith(MONEY_SUFFIXES)


def redact_revenue(obj: Any) -> Any:
    """A copy of `obj` (pydantic model, dict, list) with every money field nulled, recursively.

    Every dict or model that lost a field gets ``redacted: [names]`` (models only when they declare a
    ``redacted`` field). Nothing else changes.
    """
    return _redact_money(obj)


def _redact_money(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        updates: dict[str, Any] = {}
        removed: list[str] = []
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if is_money_field(name) and value is not None:
                updates[name] = None
                removed.append(name)
            elif isinstance(value, (BaseModel, dict, list, tuple)):
                new = _redact_money(value)
                if new is not value:
                    updates[name] = new
        if removed and "redacted" in type(obj).model_fields:
            updates["redacted"] = sorted(set(list(getattr(obj, "redacted") or []) + removed))
        return obj.model_copy(update=updates) if updates else obj
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        removed = []
        for key, value in obj.items():
            if isinstance(key, str) and is_money_field(key) and value is not None:
                out[key] = None
                removed.append(key)
            else:
                out[key] = _redact_money(value)
        component = next((obj[k] for k in _COMPONENT_NAME_KEYS if isinstance(obj.get(k), str)), None)
        if component is not None and is_money_field(component):
            for k in _COMPONENT_VALUE_KEYS:
                if out.get(k) is not None:
                    out[k] = None
                    removed.append(k)
        if removed:
            out["redacted"] = sorted(set(list(obj.get("redacted") or []) + removed))
        return out
    if isinstance(obj, list):
        return [_redact_money(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_redact_money(v) for v in obj)
    return obj


_EMAIL = EMAIL_PATTERN
# A phone candidate: optional +country, then digit groups separated by space, dot, dash or parentheses.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)?\(?\d{1,4}\)?(?:[\s.\-/]?\(?\d{1,5}\)?){2,6}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w])"
)
#: A candidate that is exactly a date stays (2024-05-01, 12/31/2024, 10.30.2024); a longer run of dotted
#: groups is a phone number (06.12.34.56.78), so the test is a full match, not a search.
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}[/.]\d{1,2}[/.]\d{1,2}")


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or digits > 15 or _ISO_DATE.search(text) or _DATE.fullmatch(text.strip()):
        return text
    plain = text.replace(" ", "").replace(",", "")
    if plain.isdigit() and not text.startswith(("0", "+")) and digits < 10:
        return text  # a bare number (an amount, a count) rather than a phone
    if re.fullmatch(r"\d{1,3}(?:[ ,.]\d{3})+", text.strip()):
        return text  # thousands separators: 120 000 / 1,200,000
    return PHONE_MASK


def redact_pii(text: str, names: Iterable[str] = ()) -> str:
    """`text` with emails, phone numbers (international formats) and the given contact names masked."""
    if not text:
        return text
    return _mask_text(text, _name_patterns(names))


def _name_patterns(names: Iterable[str], texts: Iterable[str] | None = None) -> list[re.Pattern[str]]:
    """A whole-word, case-insensitive pattern for full names and for each name part of 3+ letters.

    Given the `texts` it will be applied to, names that cannot occur in them are left out first (an
    alternative that never matches changes no match; compiling hundreds of names per answer was most of
    the cost of redacting an answer whose few short texts name nobody)."""
    if texts is not None:  # the masks are in the text by the time names are matched
        names = _present(names, "\n".join((*texts, EMAIL_MASK, PHONE_MASK)))
    pattern = words_pattern(names, parts=True)  # one alternation: a page of quotes meets hundreds of names
    return [pattern] if pattern is not None else []


def _present(names: Iterable[str], text: str) -> list[str]:
    """The names and name parts (as `words_pattern(parts=True)` splits them) that may match in `text`: for ASCII
    text an ASCII word must occur in it as a case-insensitive substring; anything else is kept."""
    if not text.isascii():
        return list(names)  # case-insensitive matching beyond ASCII (ſ, K) is not a lower() substring test
    low = text.lower()
    kept: set[str] = set()
    for name in names:
        if not name or not name.strip():
            continue
        for word in (name.strip(), *re.split(r"\s+", name.strip())):
            if not word.isascii() or word.lower() in low:
                kept.add(word)
    return sorted(kept)


# -- audit arguments ------------------------------------------------------------------------------------

MAX_ARG_CHARS = 200
MAX_ARG_ITEMS = 50
MAX_ARG_DEPTH = 5
_SECRET_KEYS = re.compile(r"token|secret|password|passwd|authorization|api[_-]?key|credential|cookie", re.I)
_JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")
_TOKENISH = re.compile(r"(?:icp_|sk-|ghp_|xox[bp]-)[\w\-]{8,}|\b[A-Za-z0-9_\-]{32,}\b")


def _mask_secret(value: str) -> str:
    return f"{SECRET_MASK} ({len(value)} chars)"


def redact_arguments(args: Any, _depth: int = 0) -> Any:
    """Arguments safe to keep in the audit log: secrets and token-like strings masked, emails masked,
    control characters escaped, long strings and lists cut, nesting bounded."""
    if _depth > MAX_ARG_DEPTH:
        return "[nested too deep]"
    if isinstance(args, dict):
        out: dict[str, Any] = {}
        for i, (key, value) in enumerate(args.items()):
            if i >= MAX_ARG_ITEMS:
                out["…"] = f"[{len(args) - MAX_ARG_ITEMS} more keys]"
                break
            skey = _clean(str(key))[:MAX_ARG_CHARS]
            if _SECRET_KEYS.search(skey) and value is not None:
                out[skey] = _mask_secret(str(value))
            else:
                out[skey] = redact_arguments(value, _depth + 1)
        return out
    if isinstance(args, (list, tuple, set, frozenset)):
        items = list(args)
        cut = [redact_arguments(v, _depth + 1) for v in items[:MAX_ARG_ITEMS]]
        if len(items) > MAX_ARG_ITEMS:
            cut.append(f"[{len(items) - MAX_ARG_ITEMS} more items]")
        return cut
    if isinstance(args, BaseModel):
        return redact_arguments(args.model_dump(mode="json"), _depth)
    if isinstance(args, str):
        return _redact_string(args)
    if args is None or isinstance(args, (bool, int, float)):
        return args
    return _redact_string(str(args))


def _redact_string(value: str) -> str:
    text = _JWT.sub(lambda m: _mask_secret(m.group(0)), value)
    text = _TOKENISH.sub(lambda m: _mask_secret(m.group(0)), text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _clean(text)
    if len(text) > MAX_ARG_CHARS:
        text = text[:MAX_ARG_CHARS] + f"…[+{len(text) - MAX_ARG_CHARS} chars]"
    return text


def _clean(text: str) -> str:
    """Control characters as visible escapes (no log injection through newlines or terminal codes)."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


# -- contact PII in results -----------------------------------------------------------------------------

#: Free-text fields whose content may mention contacts (masked inside), and fields that are PII outright.
PII_TEXT_FIELDS: frozenset[str] = frozenset({"text", "body", "quote", "snippet", "excerpt", "title", "summary"})
PII_VALUE_FIELDS: frozenset[str] = frozenset({
    "email", "phone", "contact_name", "contact_email", "contact_phone", "speaker_name",
})


def redact_pii_fields(obj: Any, names: Iterable[str] = ()) -> Any:
    """A copy of `obj` with PII fields masked and emails, phones and `names` masked inside text fields."""
    texts = [v for k, v in _fields(obj) if isinstance(v, str) and k.lower() in PII_TEXT_FIELDS]
    patterns = _name_patterns(names, texts)
    return _redact_pii_walk(obj, patterns)


def _mask_text(text: str, patterns: list[re.Pattern[str]]) -> str:
    out = _PHONE.sub(_mask_phone, _EMAIL.sub(EMAIL_MASK, text))
    for pattern in patterns:
        out = pattern.sub(NAME_MASK, out)
    return out


def _redact_pii_walk(obj: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(obj, BaseModel):
        updates: dict[str, Any] = {}
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            new = _redact_pii_value(name, value, patterns)
            if new is not value and new != value:
                updates[name] = new
        return obj.model_copy(update=updates) if updates else obj
    if isinstance(obj, dict):
        return {k: _redact_pii_value(str(k), v, patterns) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact_pii_walk(v, patterns) for v in obj]
    return obj


def _redact_pii_value(name: str, value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        if name.lower() in PII_VALUE_FIELDS:
            return "[redacted]"
        if name.lower() in PII_TEXT_FIELDS:
            return _mask_text(value, patterns)
        return value
    if isinstance(value, (BaseModel, dict, list)):
        return _redact_pii_walk(value, patterns)
    return value


def _fields(obj: Any, _depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every (field name, value) pair inside a result, recursively through models, dicts and lists."""
    if _depth > 12:
        return
    if isinstance(obj, BaseModel):
        obj = {name: getattr(obj, name) for name in type(obj).model_fields}
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield str(key), value
            if isinstance(value, (BaseModel, dict, list)):
                yield from _fields(value, _depth + 1)
    elif isinstance(obj, list):
        for value in obj:
            yield from _fields(value, _depth + 1)


def _has_pii_fields(obj: Any) -> bool:
    """True when a result holds any string in a PII field (else masking has nothing to do)."""
    pii = PII_TEXT_FIELDS | PII_VALUE_FIELDS
    return any(isinstance(value, str) and key.lower() in pii for key, value in _fields(obj))


def account_ids_in(obj: Any) -> set[str]:
    """Every `account_id` value found in a result (to look up the contact names to mask)."""
    return {value for key, value in _fields(obj) if key == "account_id" and isinstance(value, str)}


def contact_names(engine: Any, account_ids: Iterable[str], *, limit: int = 5000) -> list[str]:
    """Names of the contacts of these accounts, for masking in snippet text."""
    with engine.connect() as conn:
        return lookup.contact_names(conn, list(account_ids), limit=limit)


def redact_for(principal: Any, result: Any, engine: Any = None) -> Any:
    """The result as `principal` may see it: money nulled without ``revenue:read``, contact PII masked
    without ``pii:read`` (contact names looked up for the accounts in the result when `engine` is given)."""
    from icp_mcp.surface.access import allowed

    if not allowed(principal, "field:revenue"):
        result = redact_revenue(result)
    if not allowed(principal, "field:pii") and _has_pii_fields(result):
        names: list[str] = []
        if engine is not None:
            ids = account_ids_in(result)
            if ids:
                names = contact_names(engine, ids)
        result = redact_pii_fields(result, names)
    return result


def redaction_middleware(engine: Any = None) -> Any:
    """SDK server middleware: every ``tools/call`` result is passed through `redact_for` for the caller.

    One place for every tool, present and future: structured content is redacted and the text
    content rebuilt from it (`surface.text_render.result_text`). `engine` (the archive's reader) lets PII masking look up contact names.
    """
    import anyio.to_thread
    from mcp.types import CallToolResult, TextContent
    from mcp.types.methods import is_input_required

    from icp_mcp.engine.sql import cache
    from icp_mcp.surface.access import allowed, current_principal
    from icp_mcp.surface.runner import answer_slot, view_key
    from icp_mcp.surface.text_render import result_text

    async def middleware(ctx: Any, call_next: Any) -> Any:
        with answer_slot() as slot:
            result = await call_next(ctx)
        if getattr(ctx, "method", None) != "tools/call" or result is None or is_input_required(result):
            return result  # an input_required round (elicitation) is no CallToolResult and carries no data
        principal = current_principal()
        if allowed(principal, "field:revenue") and allowed(principal, "field:pii"):
            return result
        if isinstance(result, dict):  # the wire form (the SDK serialises before middleware sees it)
            if result.get("isError") or result.get("structuredContent") is None:
                return result
            data = result["structuredContent"]

            def rebuilt(new: Any) -> Any:
                return {**result, "structuredContent": new, "content": [{"type": "text", "text": result_text(new)}]}
        else:
            model = result
            if not isinstance(model, CallToolResult) or model.is_error or model.structured_content is None:
                return result
            data = model.structured_content

            def rebuilt(new: Any) -> Any:
                return model.model_copy(update={"structured_content": new,
                                                "content": [TextContent(type="text", text=result_text(new))]})

        def redacted() -> Any:
            new = redact_for(principal, data, engine)
            return None if new == data else rebuilt(new)

        def redacted_once() -> Any:
            """A kept answer is redacted once per caller's view; the entry holds the answer itself, so an id
            reused by another object never matches."""
            kept = slot.get("kept")
            if engine is None or kept is None:
                return redacted()
            source, out = cache.answer(engine, ("redacted", id(kept), view_key(principal)), lambda: (kept, redacted()))
            return out if source is kept else redacted()

        out = await anyio.to_thread.run_sync(redacted_once)
        return result if out is None else out

    return middleware
