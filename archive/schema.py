"""The buyer archive schema (DESIGN section 3) in SQLAlchemy Core.

One `MetaData` holds every table so that `create_all` builds the same archive on DuckDB and PostgreSQL.
Column types are portable: dates are `Date`/`DateTime`, money is `Float` (analytics, not accounting),
free-form extras are `JSON`. Snippet topics are stored as a comma-delimited string with leading and
trailing commas (",pricing,security,") so that a portable `LIKE '%,pricing,%'` finds a topic.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from icp_mcp.archive.names import INGESTIBLE_TABLES  # noqa: F401  (re-exported)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("domain", String),
    Column("industry", String),
    Column("country", String),
    Column("region", String),
    Column("employees", Integer),
    Column("annual_revenue", Float),
    Column("founded_year", Integer),
    Column("funding_stage", String),
    Column("business_model", String),
    Column("territory", String),
    Column("owner", String),
    Column("created_at", DateTime),
    Column("attributes", JSON),
    UniqueConstraint("domain", name="uq_accounts_domain"),
)

account_technologies = Table(
    "account_technologies",
    metadata,
    Column("account_id", String, ForeignKey("accounts.account_id"), primary_key=True),
    Column("technology", String, primary_key=True),
)

opportunities = Table(
    "opportunities",
    metadata,
    Column("opportunity_id", String, primary_key=True),
    Column("account_id", String, ForeignKey("accounts.account_id"), nullable=False),
    Column("created_at", Date, nullable=False),
    Column("closed_at", Date),
    Column("stage", String, nullable=False),  # open / won / lost
    Column("amount", Float),
    Column("lost_reason", String),
    Column("source", String),
    Column("product", String),
)
Index("ix_opportunities_account", opportunities.c.account_id)

arr_snapshots = Table(
    "arr_snapshots",
    metadata,
    Column("account_id", String, ForeignKey("accounts.account_id"), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("arr", Float, nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", String, primary_key=True),
    Column("account_id", String, ForeignKey("accounts.account_id"), nullable=False),
    Column("name", String),
    Column("email", String),
    Column("phone", String),
    Column("title", String),
    Column("department", String),
    Column("seniority", String),
)
Index("ix_contacts_account", contacts.c.account_id)

opportunity_contacts = Table(
    "opportunity_contacts",
    metadata,
    Column("opportunity_id", String, ForeignKey("opportunities.opportunity_id"), primary_key=True),
    Column("contact_id", String, ForeignKey("contacts.contact_id"), primary_key=True),
    Column("role", String, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", String, primary_key=True),
    Column("account_id", String, ForeignKey("accounts.account_id"), nullable=False),
    Column("contact_id", String),
    Column("occurred_at", DateTime, nullable=False),
    Column("channel", String, nullable=False),
    Column("title", String),
    Column("body", Text, nullable=False),
)
Index("ix_conversations_account", conversations.c.account_id)

conversation_snippets = Table(
    "conversation_snippets",
    metadata,
    Column("snippet_id", BigInteger, primary_key=True),
    Column("conversation_id", String, nullable=False),
    Column("account_id", String, nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("speaker", String),  # customer / vendor / None when unknown
    Column("text", Text, nullable=False),
    Column("topics", String, nullable=False, default=","),
)
Index("ix_snippets_conversation", conversation_snippets.c.conversation_id)
Index("ix_snippets_account_time", conversation_snippets.c.account_id, conversation_snippets.c.occurred_at)

feature_usage = Table(
    "feature_usage",
    metadata,
    Column("account_id", String, ForeignKey("accounts.account_id"), primary_key=True),
    Column("feature", String, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("events", Integer, nullable=False),
    Column("active_users", Integer),
)

signals = Table(
    "signals",
    metadata,
    Column("signal_id", String, primary_key=True),
    Column("account_id", String, ForeignKey("accounts.account_id"), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("kind", String, nullable=False),
    Column("detail", Text),
)
Index("ix_signals_account", signals.c.account_id)

icp_versions = Table(
    "icp_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String, nullable=False),
    Column("status", String, nullable=False),  # draft / active / retired
    Column("definition", JSON, nullable=False),
    Column("evidence", JSON),
    Column("note", Text),
)

audit_log_id_seq = Sequence("audit_log_id_seq", metadata=metadata)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, audit_log_id_seq, primary_key=True, server_default=audit_log_id_seq.next_value()),
    Column("at", DateTime, nullable=False),
    Column("subject", String, nullable=False),
    Column("tool", String, nullable=False),
    Column("arguments", JSON),
    Column("outcome", String, nullable=False),
    Column("rows", Integer),
    Column("duration_ms", Float),
    Column("reason", String),  # why a call was refused (outcome "denied"); null otherwise
)
Index("ix_audit_log_subject", audit_log.c.subject)  # schema revision 0002

ingest_rejects_id_seq = Sequence("ingest_rejects_id_seq", metadata=metadata)
ingest_rejects = Table(
    "ingest_rejects",
    metadata,
    Column(
        "id", BigInteger, ingest_rejects_id_seq, primary_key=True,
        server_default=ingest_rejects_id_seq.next_value(),
    ),
    Column("at", DateTime, nullable=False),
    Column("table_name", String, nullable=False),
    Column("source", String, nullable=False),
    Column("line", Integer),
    Column("raw", Text),
    Column("reason", Text, nullable=False),
)

#: The archive generation: one row (id = 1). Every ingest that changes rows, `init`, a demo build and every
#: ICP activation / rollback / import bump `generation` in their own transaction, so "what answers depend
#: on" is one number read with one keyed query. `archive_id` tells two archives at one path apart.
archive_generation = Table(
    "archive_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    Column("archive_id", String, nullable=False),
    Column("bumped_at", DateTime),
)

#: ICP state kept in the archive (engine/scoring/state.py): one header row per stored state, saying for
#: which definition (`digest`, `weights_digest`), generation and day (`as_of`) the rows below were built.
icp_state = Table(
    "icp_state",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("digest", String, nullable=False),
    Column("weights_digest", String, nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("built_at", DateTime, nullable=False),
    Column("accounts", Integer),
    Column("customers", Integer),
    Column("seconds", Float),
    # the technologies behind icp_best_profiles.tech_bits, bit i = the i-th name (",a,b,"; the ICP's own)
    Column("technology_bits", String),
    # what icp_similar_candidates groups best customers by (",industry,technology,"); NULL: no candidates stored
    Column("similar_key", String),
    # 1 when icp_persona_facts holds this state's persona counts (NULL: built before revision 0011)
    Column("persona_facts", Integer),
)

#: Each account's score under the stored version (segments as ",s1,s2," like snippet topics).
icp_account_state = Table(
    "icp_account_state",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("account_id", String, primary_key=True),
    Column("generation", BigInteger, nullable=False),
    Column("points", Float, nullable=False),
    Column("disqualified", Integer, nullable=False),
    Column("fit_score", Float, nullable=False),
    Column("tier", String, nullable=False),
    Column("win_probability", Float),
    Column("disqualifier", String),
    Column("segments", String, nullable=False),
)

#: Each customer's value components, score and rank under the stored version's value weights.
icp_customer_state = Table(
    "icp_customer_state",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("account_id", String, primary_key=True),
    Column("generation", BigInteger, nullable=False),
    Column("first_won_at", Date),
    Column("arr", Float),
    Column("lifetime_revenue", Float),
    Column("nrr", Float),
    Column("retained", Integer),
    Column("time_to_value_days", Float),
    Column("tickets_per_month", Float),
    Column("value_score", Float, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("revenue_before", Float),
    Column("revenue_total", Float),
    Column("in_best", Integer, nullable=False),
    # who it is, so that a page and the cohort's shares need no join with a million accounts
    Column("name", String),
    Column("industry", String),
    Column("territory", String),
    # percentile rank of each value component (what put the customer where it is: best_customers' ranked_by)
    *[Column(f"pr_{name}", Float) for name in ("arr", "lifetime_revenue", "nrr", "retained", "time_to_value",
                                                "support_load")],
)

#: One row per best customer: its name and the values similar-customer search compares (band labels for the
#: numbers, technologies as ",a,b,"), so that one scan without grouping finds the closest ones.
SIMILAR_COLUMNS: tuple[str, ...] = ("industry", "country", "region", "funding_stage", "business_model", "territory",
                                    "employees", "annual_revenue", "founded_year")


def _profile_columns() -> list[Column]:
    """A best profile's columns (icp_best_profiles and icp_similar_candidates hold the same rows)."""
    return [
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("account_id", String, primary_key=True),
        Column("name", String),
        *[Column(name, String) for name in SIMILAR_COLUMNS],
        Column("technologies", String, nullable=False),
        Column("tech_bits", BigInteger),  # the ICP's technologies it uses, as bits (icp_state.technology_bits)
        Column("headcount", Float),  # the employee count, for a firmographic profile that names nobody
    ]


icp_best_profiles = Table("icp_best_profiles", metadata, *_profile_columns())

#: How many best customers of each group icp_similar_candidates keeps: enough for the 3 closest when one of
#: them is the scored account itself.
SIMILAR_DEPTH = 4
#: The best profiles similar-customer search can answer with: of each group of best customers alike in every
#: value the search compares for the stored ICP (icp_state.similar_key) and in territory, the SIMILAR_DEPTH
#: with the lowest account ids. The k < SIMILAR_DEPTH closest best customers are always among them (a group's
#: members share the facts and the territory, so a member ranks below every lower id of its group but one
#: excluded), and a search scans a few thousand rows instead of every best customer.
icp_similar_candidates = Table("icp_similar_candidates", metadata, *_profile_columns())

#: What explain_disqualifier says of each disqualifier of the stored version: one row per rule with the recent
#: window (`since`) and its closed deals (all, won; hitting the rule, won hitting it), `account_id` NULL; and one
#: row per won account that hits the rule (its exceptions) with its name and territory, the counts NULL.
icp_rule_state = Table(
    "icp_rule_state",
    metadata,
    Column("version", Integer, nullable=False),
    Column("rule_id", String, nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("account_id", String),
    Column("name", String),
    Column("territory", String),
    Column("since", Date),
    Column("closed", Integer),
    Column("won", Integer),
    Column("closed_hit", Integer),
    Column("won_hit", Integer),
)

#: What check_drift counts, per closed day, under the stored version (schema revision 0007): `kind` 'group' rows
#: count closed deals per stage by the account's place in the ICP (`inside` 0/1, `segments` as ",s1,s2,");
#: 'value' rows count them per stage by one attribute (`key`) value (`value`: band labels for numbers);
#: 'first' rows count deals that are their account's first in any window starting after `prev_on` (the day of
#: the account's previous closed deal, `stage` 'closed'; or previous won deal, `stage` 'won'; NULL: none), by
#: the account's missing-column bit mask (`mask`; -1 when the account row is missing), so that distinct
#: accounts per window are a range sum too.
icp_drift_facts = Table(
    "icp_drift_facts",
    metadata,
    Column("version", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("closed_on", Date, nullable=False),
    Column("stage", String, nullable=False),
    Column("inside", Integer),
    Column("segments", String),
    Column("key", String),
    Column("value", String),
    Column("prev_on", Date),
    Column("mask", Integer),
    Column("deals", BigInteger, nullable=False),
)

#: feature_adoption's per-group sums for the default window ending on the state's day (schema revision 0008):
#: one row per (feature, grouping `by`, group) plus the overall row (`is_overall` 1, `grp` 'all') of each
#: (feature, by), with the window [window_start, window_end) and the retention months they were computed for;
#: the columns are the sums `engine/sql/adoption_sql.aggregates` gives.
icp_adoption_facts = Table(
    "icp_adoption_facts",
    metadata,
    Column("version", Integer, nullable=False),
    Column("feature", String, nullable=False),
    Column("by", String, nullable=False),
    Column("grp", String, nullable=False),
    Column("is_overall", Integer, nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("then_month", Date),
    Column("now_month", Date),
    Column("n", BigInteger, nullable=False),
    Column("adopters", BigInteger, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("users", Float),
    Column("had_0", BigInteger, nullable=False),
    Column("had_1", BigInteger, nullable=False),
    Column("then_0", Float, nullable=False),
    Column("then_1", Float, nullable=False),
    Column("now_0", Float, nullable=False),
    Column("now_1", Float, nullable=False),
    Column("churned_0", BigInteger, nullable=False),
    Column("churned_1", BigInteger, nullable=False),
)

#: What a derivation counts for its personas, per day, kept with the stored state (schema revision 0011;
#: engine/sql/persona_sql.py): 'role' and 'title' rows count distinct closed deals per buying role or raw
#: contact title by closed day (`on_day`) and outcome (`won` 0/1); 'role_topics' and 'title_topics' rows count
#: snippets with topics per role or raw title by day and topics string (",a,b,"). Version-independent: a
#: derivation reads them while the state's generation is the archive's.
icp_persona_facts = Table(
    "icp_persona_facts",
    metadata,
    Column("version", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("key", String, nullable=False),
    Column("on_day", Date, nullable=False),
    Column("won", Integer),
    Column("topics", String),
    Column("n", BigInteger, nullable=False),
)

#: Derived tables an archive opened for writing gets when it lacks them (archives made before they existed).
STATE_TABLES: tuple[str, ...] = (
    "archive_generation", "icp_state", "icp_account_state", "icp_customer_state", "icp_best_profiles",
    "icp_rule_state", "icp_drift_facts", "icp_adoption_facts", "icp_similar_candidates", "icp_persona_facts",
)

OPPORTUNITY_STAGES: tuple[str, ...] = ("open", "won", "lost")
CONTACT_ROLES: tuple[str, ...] = (
    "champion", "economic_buyer", "technical_evaluator", "user", "blocker", "other",
)
CHANNELS: tuple[str, ...] = ("call", "meeting", "email", "ticket", "note", "survey")
ICP_STATUSES: tuple[str, ...] = ("draft", "active", "retired")
