"""Column mappings: how a file's columns become the canonical columns of an archive table.

A mapping turns the file's header into one SQL expression (over VARCHAR staging columns) per canonical
column. `generic` expects the canonical names of DESIGN section 3 (case-insensitive); `salesforce` and
`hubspot` translate those systems' standard exports (and fall back to the canonical names, so a custom
column named like the canonical one still maps). Every mapping documented in docs/INGEST.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from icp_mcp.archive.countries import country_sql
from icp_mcp.archive.names import INGESTIBLE_TABLES, MAPPINGS
from icp_mcp.archive.schema import OPPORTUNITY_STAGES, metadata

Builder = Callable[["SourceColumns"], str]


class MappingError(ValueError):
    """An unknown mapping, or a file that lacks a column the table needs."""


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class SourceColumns:
    """The file's columns, looked up case-insensitively; remembers which ones a mapping used."""

    names: list[str]
    used: set[str] = field(default_factory=set)

    def find(self, *candidates: str) -> str | None:
        by_lower = {n.strip().lower(): n for n in self.names}
        for candidate in candidates:
            found = by_lower.get(candidate.strip().lower())
            if found is not None:
                self.used.add(found)
                return found
        return None

    def expr(self, *candidates: str) -> str:
        """The first present candidate as trimmed VARCHAR (empty → NULL), or NULL when none is present."""
        found = self.find(*candidates)
        if found is None:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({quote_ident(found)} AS VARCHAR)), '')"

    def has(self, *candidates: str) -> bool:
        by_lower = {n.strip().lower() for n in self.names}
        return any(c.strip().lower() in by_lower for c in candidates)

    def extras(self) -> list[str]:
        return [n for n in self.names if n not in self.used]


def pick(*candidates: str) -> Builder:
    """Take the first of these columns the file has."""
    return lambda src: src.expr(*candidates)


def _truthy(expr: str) -> str:
    return f"lower(coalesce({expr}, '')) IN ('true', '1', 'yes', 'y', 't')"


# --------------------------------------------------------------------------------------------- stages

def _generic_stage(src: SourceColumns) -> str:
    v = src.expr("stage")
    return (
        f"CASE WHEN lower({v}) IN ('closed won', 'closed_won', 'closedwon') THEN 'won' "
        f"WHEN lower({v}) IN ('closed lost', 'closed_lost', 'closedlost') THEN 'lost' ELSE lower({v}) END"
    )


def _salesforce_stage(src: SourceColumns) -> str:
    name = src.expr("StageName", "stage")
    won = src.expr("IsWon")
    closed = src.expr("IsClosed")
    return (
        f"CASE WHEN {_truthy(won)} THEN 'won' "
        f"WHEN {_truthy(closed)} THEN 'lost' "
        f"WHEN lower({name}) LIKE 'closed won%' OR lower({name}) IN ('won', 'closedwon') THEN 'won' "
        f"WHEN lower({name}) LIKE 'closed lost%' OR lower({name}) IN ('lost', 'closedlost') THEN 'lost' "
        f"WHEN {name} IS NOT NULL THEN 'open' END"
    )


def _hubspot_stage(src: SourceColumns) -> str:
    v = src.expr("Deal Stage", "dealstage", "stage")
    return (
        f"CASE WHEN regexp_replace(lower({v}), '[^a-z]', '', 'g') = 'closedwon' THEN 'won' "
        f"WHEN regexp_replace(lower({v}), '[^a-z]', '', 'g') = 'closedlost' THEN 'lost' "
        f"WHEN {v} IS NOT NULL THEN 'open' END"
    )


def _closed_only(date: Builder, stage: Builder) -> Builder:
    """CRMs fill the close date of open deals with the *expected* date; keep it only for won/lost."""
    return lambda src: f"CASE WHEN ({stage(src)}) IN ('won', 'lost') THEN {date(src)} END"


# --------------------------------------------------------------------------------------------- roles

_ROLE_SYNONYMS: dict[str, str] = {
    "decision maker": "economic_buyer",
    "economic decision maker": "economic_buyer",
    "economic buyer": "economic_buyer",
    "executive sponsor": "economic_buyer",
    "budget holder": "economic_buyer",
    "technical buyer": "technical_evaluator",
    "evaluator": "technical_evaluator",
    "technical evaluator": "technical_evaluator",
    "business user": "user",
    "end user": "user",
    "user": "user",
    "champion": "champion",
    "influencer": "other",
    "blocker": "blocker",
    "detractor": "blocker",
    "other": "other",
}


def _crm_role(*candidates: str) -> Builder:
    """Translate CRM contact-role names onto the canonical roles; blank → other; unknown stays (rejected)."""

    def build(src: SourceColumns) -> str:
        v = src.expr(*candidates)
        whens = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(r)}" for k, r in _ROLE_SYNONYMS.items())
        norm = f"regexp_replace(lower({v}), '[_-]+', ' ', 'g')"
        return f"CASE WHEN {v} IS NULL THEN 'other' ELSE coalesce(CASE {norm} {whens} END, {norm}) END"

    return build


def _generic_role(src: SourceColumns) -> str:
    v = src.expr("role")
    return f"regexp_replace(lower({v}), '[ -]+', '_', 'g')"


def _lower(*candidates: str) -> Builder:
    return lambda src: f"lower({src.expr(*candidates)})"


def _full_name(first: str, last: str, *whole: str) -> Builder:
    def build(src: SourceColumns) -> str:
        if src.has(first) or src.has(last):
            f, l = src.expr(first), src.expr(last)
            return f"nullif(trim(concat_ws(' ', {f}, {l})), '')"
        return src.expr(*whole)

    return build


def _first_id(*candidates: str) -> Builder:
    """HubSpot puts several associated ids in one cell separated by ';' — take the first."""
    return lambda src: f"nullif(trim(split_part({src.expr(*candidates)}, ';', 1)), '')"


# --------------------------------------------------------------------------------------------- presets

def _generic_table(table: str) -> dict[str, Builder]:
    cols = {c.name: pick(c.name) for c in metadata.tables[table].columns}
    if table == "opportunities":
        cols["stage"] = _generic_stage
    if table == "opportunity_contacts":
        cols["role"] = _generic_role
    if table == "conversations":
        cols["channel"] = _lower("channel")
    return cols


_SF_STAGE: Builder = _salesforce_stage
_HS_STAGE: Builder = _hubspot_stage
_SF_CLOSE: Builder = pick("CloseDate", "Close Date", "closed_at")
_HS_CLOSE: Builder = pick("Close Date", "closedate", "closed_at")
#: Where each mapping reads the source's stage value, and the close date that follows the stage.
STAGE_SOURCE: dict[str, tuple[str, ...]] = {
    "generic": ("stage",), "salesforce": ("StageName", "stage"), "hubspot": ("Deal Stage", "dealstage", "stage"),
}
CLOSE_DATE: dict[str, Builder] = {"salesforce": _SF_CLOSE, "hubspot": _HS_CLOSE}
#: Source stage values known to be open (compared lower case, letters only): the CRMs' default pipelines.
KNOWN_OPEN: frozenset[str] = frozenset({
    "open", "new", "pipeline", "inprogress", "prospecting", "qualification", "needsanalysis",
    "valueproposition", "iddecisionmakers", "perceptionanalysis", "proposalpricequote", "negotiationreview",
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent",
})

SALESFORCE: dict[str, dict[str, Builder]] = {
    "accounts": {
        "account_id": pick("Id", "Account ID", "account_id"),
        "name": pick("Name", "Account Name", "name"),
        "domain": pick("Website", "domain"),
        "industry": pick("Industry", "industry"),
        "country": pick("BillingCountry", "Billing Country", "ShippingCountry", "country"),
        "region": pick("Region__c", "region"),
        "employees": pick("NumberOfEmployees", "Employees", "employees"),
        "annual_revenue": pick("AnnualRevenue", "Annual Revenue", "annual_revenue"),
        "founded_year": pick("YearStarted", "Year Started", "founded_year"),
        "funding_stage": pick("Funding_Stage__c", "funding_stage"),
        "business_model": pick("Business_Model__c", "business_model"),
        "territory": pick("Territory__c", "Sales_Territory__c", "territory"),
        "owner": pick("OwnerId", "Owner.Name", "Account Owner", "owner"),
        "created_at": pick("CreatedDate", "Created Date", "created_at"),
    },
    "opportunities": {
        "opportunity_id": pick("Id", "Opportunity ID", "opportunity_id"),
        "account_id": pick("AccountId", "Account ID", "account_id"),
        "created_at": pick("CreatedDate", "Created Date", "created_at"),
        "closed_at": _closed_only(_SF_CLOSE, _SF_STAGE),
        "stage": _SF_STAGE,
        "amount": pick("Amount", "amount"),
        "lost_reason": pick("Loss_Reason__c", "Closed_Lost_Reason__c", "Reason_Lost__c", "lost_reason"),
        "source": pick("LeadSource", "Lead Source", "source"),
        "product": pick("Product__c", "Product_Family__c", "product"),
    },
    "contacts": {
        "contact_id": pick("Id", "Contact ID", "contact_id"),
        "account_id": pick("AccountId", "Account ID", "account_id"),
        "name": _full_name("FirstName", "LastName", "Name", "name"),
        "email": pick("Email", "email"),
        "phone": pick("Phone", "MobilePhone", "phone"),
        "title": pick("Title", "title"),
        "department": pick("Department", "department"),
        "seniority": pick("Seniority__c", "Level__c", "seniority"),
    },
    "opportunity_contacts": {
        "opportunity_id": pick("OpportunityId", "Opportunity ID", "opportunity_id"),
        "contact_id": pick("ContactId", "Contact ID", "contact_id"),
        "role": _crm_role("Role", "role"),
    },
}

HUBSPOT: dict[str, dict[str, Builder]] = {
    "accounts": {
        "account_id": pick("Record ID", "Company ID", "hs_object_id", "account_id"),
        "name": pick("Company name", "Name", "name"),
        "domain": pick("Company Domain Name", "Website URL", "domain"),
        "industry": pick("Industry", "industry"),
        "country": pick("Country/Region", "Country", "country"),
        "region": pick("Region", "region"),
        "employees": pick("Number of Employees", "numberofemployees", "employees"),
        "annual_revenue": pick("Annual Revenue", "annualrevenue", "annual_revenue"),
        "founded_year": pick("Year Founded", "founded_year"),
        "funding_stage": pick("Funding Stage", "funding_stage"),
        "business_model": pick("Business Model", "business_model"),
        "territory": pick("Territory", "territory"),
        "owner": pick("Company owner", "HubSpot Owner", "owner"),
        "created_at": pick("Create Date", "createdate", "created_at"),
    },
    "opportunities": {
        "opportunity_id": pick("Record ID", "Deal ID", "hs_object_id", "opportunity_id"),
        "account_id": _first_id(
            "Associated Company IDs (Primary)", "Associated Company IDs", "Associated Company ID",
            "Associated Company", "account_id",
        ),
        "created_at": pick("Create Date", "createdate", "created_at"),
        "closed_at": _closed_only(_HS_CLOSE, _HS_STAGE),
        "stage": _HS_STAGE,
        "amount": pick("Amount", "amount"),
        "lost_reason": pick("Closed Lost Reason", "closed_lost_reason", "lost_reason"),
        "source": pick("Original Source Type", "Original Source", "source"),
        "product": pick("Product", "Pipeline", "product"),
    },
    "contacts": {
        "contact_id": pick("Record ID", "Contact ID", "hs_object_id", "contact_id"),
        "account_id": _first_id(
            "Associated Company ID", "Associated Company IDs (Primary)", "Associated Company IDs", "account_id",
        ),
        "name": _full_name("First Name", "Last Name", "Name", "name"),
        "email": pick("Email", "email"),
        "phone": pick("Phone Number", "Mobile Phone Number", "phone"),
        "title": pick("Job Title", "jobtitle", "title"),
        "department": pick("Department", "department"),
        "seniority": pick("Seniority", "seniority"),
    },
    "opportunity_contacts": {
        "opportunity_id": pick("Deal ID", "Record ID - Deal", "Deal Record ID", "opportunity_id"),
        "contact_id": pick("Contact ID", "Record ID - Contact", "Contact Record ID", "contact_id"),
        "role": _crm_role("Association label", "Association Label", "Role", "role"),
    },
}


def check_target(table: str, mapping: str) -> None:
    """Raise `MappingError` naming the allowed values when `table` or `mapping` is unknown."""
    if table not in INGESTIBLE_TABLES:
        raise MappingError(f"unknown table {table!r}; allowed: {', '.join(INGESTIBLE_TABLES)}")
    if mapping not in MAPPINGS:
        raise MappingError(f"unknown mapping {mapping!r}; allowed: {', '.join(MAPPINGS)}")


StageMap = dict[str, str]


def parse_stage_map(items: list[str] | None) -> StageMap:
    """`["Contract signed=won", ...]` → {"contract signed": "won"}; a bad item raises `MappingError`."""
    out: StageMap = {}
    for item in items or []:
        source, sep, stage = item.rpartition("=")
        stage = stage.strip().lower()
        if not sep or not source.strip() or stage not in OPPORTUNITY_STAGES:
            raise MappingError(f"--stage-map {item!r}: write SOURCE VALUE=STAGE with STAGE one of "
                               f"{', '.join(OPPORTUNITY_STAGES)} (e.g. 'Contract signed=won')")
        out[source.strip().lower()] = stage
    return out


def _stage_with_map(stage: Builder, candidates: tuple[str, ...], stage_map: StageMap) -> Builder:
    """The mapping's stage rule, with the user's `--stage-map` values taking precedence."""

    def build(src: SourceColumns) -> str:
        v = src.expr(*candidates)
        whens = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(x)}" for k, x in sorted(stage_map.items()))
        return f"CASE lower({v}) {whens} ELSE ({stage(src)}) END"

    return build


def column_builders(table: str, mapping: str, stage_map: StageMap | None = None) -> dict[str, Builder]:
    """Canonical column → SQL builder for `table` under `mapping` (tables without a preset use generic);
    `stage_map` (source stage value → open / won / lost) overrides the stage rule, and the close date
    follows it."""
    check_target(table, mapping)
    preset = {"salesforce": SALESFORCE, "hubspot": HUBSPOT}.get(mapping, {})
    builders = _generic_table(table)
    builders.update(preset.get(table, {}))
    if table == "opportunities" and stage_map:
        stage = _stage_with_map(builders["stage"], STAGE_SOURCE[mapping], stage_map)
        builders["stage"] = stage
        if mapping in CLOSE_DATE:
            builders["closed_at"] = _closed_only(CLOSE_DATE[mapping], stage)
    return builders


def mapped_select(table: str, mapping: str, source_columns: list[str],
                  stage_map: StageMap | None = None) -> tuple[dict[str, str], list[str]]:
    """SQL expressions for every canonical column of `table`, and the file columns left unused.

    For `accounts`, unused columns are gathered into the `attributes` JSON (unless the file has one), the
    country is normalized to one name and its raw spelling kept there as `country_raw` when it differs.
    """
    src = SourceColumns(list(source_columns))
    exprs = {col: build(src) for col, build in column_builders(table, mapping, stage_map).items()}
    extras = src.extras()
    if table == "accounts":
        raw_country = exprs["country"]
        exprs["country"] = country_sql(raw_country)
    if table == "accounts" and not src.has("attributes"):
        pairs = [f"{sql_str(c)}, {src.expr(c)}" for c in extras]
        changed = f"{exprs['country']} IS DISTINCT FROM {raw_country}"
        keep_raw = raw_country != "CAST(NULL AS VARCHAR)"
        if keep_raw:
            pairs.append(f"'country_raw', CASE WHEN {changed} THEN {raw_country} END")
        if extras:
            exprs["attributes"] = f"CAST(json_object({', '.join(pairs)}) AS VARCHAR)"
        elif keep_raw:  # only the raw country: no attributes at all when it needed no change
            exprs["attributes"] = f"CASE WHEN {changed} THEN CAST(json_object({pairs[0]}) AS VARCHAR) END"
        else:
            exprs["attributes"] = "CAST(NULL AS VARCHAR)"
        return exprs, []
    return exprs, extras


def stage_breakdown_exprs(mapping: str, source_columns: list[str],
                          stage_map: StageMap | None = None) -> tuple[str, str]:
    """SQL for (the source's stage value, the stage it maps to) over the raw file columns."""
    src = SourceColumns(list(source_columns))
    return src.expr(*STAGE_SOURCE[mapping]), column_builders("opportunities", mapping, stage_map)["stage"](src)


def stage_warnings(rows: list[tuple[str | None, str | None, int]], mapping: str, source_columns: list[str],
                   stage_map: StageMap | None = None) -> list[str]:
    """Warnings for source stage values stored as open only because no rule knew them, or rejected as
    unknown: each names the value, its rows and the `--stage-map` that would map it."""
    src = SourceColumns(list(source_columns))
    flagged = mapping == "salesforce" and src.has("IsClosed")  # the export says which deals are closed
    mapped = set(stage_map or {})
    out = []
    for source, stage, n in rows:
        if source is None or source.lower() in mapped:
            continue
        letters = "".join(ch for ch in source.lower() if ch.isalpha())
        hint = f"if it means won or lost, map it: --stage-map \"{source}=won\" (or =lost / =open)"
        if stage not in OPPORTUNITY_STAGES:
            out.append(f"stage {source!r} ({n:,} rows) is not a known stage and was rejected; {hint}")
        elif stage == "open" and not flagged and letters not in KNOWN_OPEN:
            out.append(f"stage {source!r} ({n:,} rows) is not a known open stage but was stored as open; {hint}")
    return out


def required_source_columns(table: str, mapping: str, source_columns: list[str]) -> list[str]:
    """Key and NOT NULL columns that no file column maps onto (then the file cannot be loaded)."""
    builders = column_builders(table, mapping)
    needed = [c.name for c in metadata.tables[table].columns if c.primary_key or not c.nullable]
    missing = []
    for column in needed:
        probe = SourceColumns(list(source_columns))
        builders[column](probe)
        defaulted = column == "role" and mapping != "generic"  # CRM presets default a blank role to 'other'
        if not probe.used and not defaulted:
            missing.append(column)
    return missing
