"""Row validation as set-based DuckDB SQL: one typed value and one `reason` per staged row.

The staging table holds the mapped canonical columns as VARCHAR. For each column the rules come from the
schema (type, NOT NULL, primary key) plus the domain rules below (ranges, enums, dates that are not
absurd). Every failing rule contributes a fragment naming its column — "employees: 'abc' is not an
integer" — and a row's reason is all its fragments joined with "; ". Rows without a reason are cast to
the table's types. Duplicate keys within the file are found afterwards among the rows that passed
(the first occurrence wins; later ones name its line).
"""

from __future__ import annotations

from dataclasses import dataclass

from icp_mcp.archive.clock import today, utc_now
from icp_mcp.archive.domains import normalise_domain_sql
from icp_mcp.archive.mappings import quote_ident, sql_str
from icp_mcp.archive.schema import CHANNELS, CONTACT_ROLES, OPPORTUNITY_STAGES, metadata
from sqlalchemy import JSON, BigInteger, Date, DateTime, Float, Integer

#: Columns that may not be negative.
NON_NEGATIVE: frozenset[str] = frozenset({"employees", "annual_revenue", "amount", "arr", "events", "active_users"})
#: (table, column) → allowed values (compared after the mapping lower-cases them).
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("opportunities", "stage"): OPPORTUNITY_STAGES,
    ("opportunity_contacts", "role"): CONTACT_ROLES,
    ("conversations", "channel"): CHANNELS,
}
#: Dates that record something that already happened: at most one day ahead (clock skew).
PAST_DATES: frozenset[tuple[str, str]] = frozenset({
    ("accounts", "created_at"), ("opportunities", "created_at"), ("conversations", "occurred_at"),
    ("signals", "occurred_at"), ("feature_usage", "day"), ("arr_snapshots", "month"),
})
EARLIEST_DATE = "1900-01-01"
EARLIEST_YEAR = 1800
FUTURE_YEARS = 10  # other dates (e.g. a close date) may lie at most this far ahead
#: Extra formats tried when a value is not ISO 8601 (US month-first, as CRM exports write them).
DATE_FORMATS: tuple[str, ...] = (
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%d.%m.%Y", "%Y/%m/%d",
)
_NULL = "CAST(NULL AS VARCHAR)"


@dataclass(frozen=True)
class ColumnCheck:
    """What one column must satisfy."""

    name: str
    kind: str  # int / number / date / timestamp / json / text
    key: bool
    required: bool
    enum: tuple[str, ...] | None = None
    past_only: bool = False


def column_checks(table: str) -> list[ColumnCheck]:
    """The checks of every column of `table`, derived from the schema and the rule sets above."""
    checks = []
    for col in metadata.tables[table].columns:
        t = col.type
        if isinstance(t, (Integer, BigInteger)):
            kind = "int"
        elif isinstance(t, Float):
            kind = "number"
        elif isinstance(t, DateTime):
            kind = "timestamp"
        elif isinstance(t, Date):
            kind = "date"
        elif isinstance(t, JSON):
            kind = "json"
        else:
            kind = "text"
        checks.append(ColumnCheck(
            name=col.name, kind=kind, key=bool(col.primary_key), required=not col.nullable,
            enum=ENUMS.get((table, col.name)), past_only=(table, col.name) in PAST_DATES,
        ))
    return checks


def key_columns(table: str) -> list[str]:
    return [c.name for c in metadata.tables[table].primary_key.columns]


def _shown(v: str) -> str:
    """The offending value as it appears in a reason (cut to 60 characters)."""
    return f"left({v}, 60)"


def parsed_expr(check: ColumnCheck, v: str) -> str:
    """DuckDB expression parsing VARCHAR `v` into the column's type (NULL when it does not parse)."""
    if check.kind == "int":
        return f"try_cast(replace({v}, ',', '') AS DOUBLE)"
    if check.kind == "number":
        return f"try_cast(regexp_replace({v}, '^[$€£]|[$€£]$|[,\\s]', '', 'g') AS DOUBLE)"
    if check.kind in ("date", "timestamp"):
        formats = ", ".join(sql_str(f) for f in DATE_FORMATS)
        return (
            f"coalesce(try_cast({v} AS TIMESTAMP), "
            f"CAST(timezone('UTC', try_cast({v} AS TIMESTAMPTZ)) AS TIMESTAMP), "
            f"try_strptime({v}, [{formats}]))"
        )
    if check.kind == "json":
        return f"CASE WHEN json_valid({v}) THEN {v} END"
    return v


def typed_expr(check: ColumnCheck, p: str) -> str:
    """Cast the parsed value `p` to the column's final type."""
    return {
        "int": f"CAST({p} AS BIGINT)",
        "number": f"CAST({p} AS DOUBLE)",
        "date": f"CAST({p} AS DATE)",
        "timestamp": f"CAST({p} AS TIMESTAMP)",
    }.get(check.kind, p)


def _now_sql() -> str:
    """The clock's now as a DuckDB TIMESTAMP literal (UTC, as stored; not the session's local time)."""
    return f"TIMESTAMP '{utc_now():%Y-%m-%d %H:%M:%S}'"


def reason_fragments(check: ColumnCheck, v: str, p: str) -> list[str]:
    """SQL expressions, each NULL or one reason fragment for this column."""
    c = check.name
    out: list[str] = []
    if check.key:
        out.append(f"CASE WHEN {v} IS NULL THEN '{c}: empty key' END")
    elif check.required:
        out.append(f"CASE WHEN {v} IS NULL THEN '{c}: required value missing' END")
    noun = {"int": "an integer", "number": "a number", "date": "a date", "timestamp": "a date",
            "json": "valid JSON"}.get(check.kind)
    if noun:
        bad = f"{p} IS NULL"
        if check.kind == "int":
            bad = f"{p} IS NULL OR NOT isfinite({p}) OR {p} <> floor({p}) OR abs({p}) > 2147483647"
        elif check.kind == "number":
            bad = f"{p} IS NULL OR NOT isfinite({p})"
        out.append(f"CASE WHEN {v} IS NOT NULL AND ({bad}) THEN '{c}: ''' || {_shown(v)} || ''' is not {noun}' END")
    if c in NON_NEGATIVE:
        out.append(f"CASE WHEN {p} < 0 THEN '{c}: ' || {_shown(v)} || ' is negative' END")
    if c == "founded_year":
        out.append(
            f"CASE WHEN {p} > {today().year} THEN '{c}: ' || {_shown(v)} || ' is in the future' "
            f"WHEN {p} < {EARLIEST_YEAR} THEN '{c}: ' || {_shown(v)} || ' is before {EARLIEST_YEAR}' END"
        )
    if check.kind in ("date", "timestamp"):
        late = (
            f"WHEN {p} > {_now_sql()} + INTERVAL 1 DAY THEN '{c}: ' || {_shown(v)} || ' is in the future'"
            if check.past_only else
            f"WHEN {p} > {_now_sql()} + INTERVAL {FUTURE_YEARS} YEAR "
            f"THEN '{c}: ' || {_shown(v)} || ' is more than {FUTURE_YEARS} years ahead'"
        )
        out.append(
            f"CASE WHEN {p} < TIMESTAMP '{EARLIEST_DATE}' THEN '{c}: ' || {_shown(v)} || ' is before {EARLIEST_DATE[:4]}' "
            f"{late} END"
        )
    if check.enum:
        allowed = ", ".join(sql_str(e) for e in check.enum)
        out.append(
            f"CASE WHEN {v} IS NOT NULL AND {v} NOT IN ({allowed}) "
            f"THEN '{c}: ''' || {_shown(v)} || ''' is not one of {', '.join(check.enum)}' END"
        )
    return out


def checked_select(table: str, stage: str) -> str:
    """SELECT over `stage` giving _rid, _line, _raw, every typed column and `_reason` (NULL when valid).

    Values are parsed once in an inner SELECT (`_v_x` the cleaned text, `_p_x` the parsed value); the outer
    SELECT casts them and builds the reason, so no parse runs more than once per value.
    """
    inner = ["_rid", "_line", "_raw"]
    outer = ["_rid", "_line", "_raw"]
    fragments: list[str] = []
    for check in column_checks(table):
        raw = quote_ident(check.name)
        cleaned = normalise_domain_sql(raw) if (table, check.name) == ("accounts", "domain") else raw
        v, p = quote_ident(f"_v_{check.name}"), quote_ident(f"_p_{check.name}")
        inner.append(f"{cleaned} AS {v}")
        inner.append(f"{parsed_expr(check, cleaned)} AS {p}")
        outer.append(f"{typed_expr(check, p)} AS {raw}")
        fragments.extend(reason_fragments(check, v, p))
    reason = f"nullif(concat_ws('; ', {', '.join(fragments)}), '')"
    return (f"SELECT {', '.join(outer)}, {reason} AS _reason "
            f"FROM (SELECT {', '.join(inner)} FROM {stage}) AS parsed")


def duplicate_reasons_sql(table: str, checked: str) -> str:
    """SELECT _rid, reason for valid rows whose key repeats an earlier row (accounts: or whose domain does).

    The domain check looks only at first occurrences of a key, so a repeated row is reported once, as a key.
    """
    keys = key_columns(table)
    key_list = ", ".join(quote_ident(k) for k in keys)
    label = ", ".join(keys)
    domain = "domain" if table == "accounts" else _NULL
    return f"""
SELECT _rid, concat_ws('; ',
    CASE WHEN key_rn > 1 THEN '{label}: duplicate key in file (also on line ' || key_first || ')' END,
    CASE WHEN dom_rn > 1
         THEN 'domain: ''' || dom || ''' is used by another row of the file (line ' || dom_first || ')' END
) AS reason
FROM (
    SELECT _rid, key_rn, key_first, dom,
           CASE WHEN dom IS NOT NULL AND key_rn = 1
                THEN row_number() OVER (PARTITION BY dom, key_rn = 1 ORDER BY _line) END AS dom_rn,
           min(_line) OVER (PARTITION BY dom, key_rn = 1) AS dom_first
    FROM (
        SELECT _rid, _line, {domain} AS dom,
               row_number() OVER (PARTITION BY {key_list} ORDER BY _line) AS key_rn,
               min(_line) OVER (PARTITION BY {key_list}) AS key_first
        FROM {checked} WHERE _reason IS NULL
    )
)
WHERE key_rn > 1 OR dom_rn > 1
"""
