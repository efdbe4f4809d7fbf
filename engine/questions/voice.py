"""Customer voice: quoted snippets on a topic or question, from a cohort, in a time window, with counts.

One filtered set of snippets (cohort × window × topic / full-text match × channel × persona, vendor turns
left out) feeds two SQL queries: the ranked page of quotes, and the counts (by topic, tone and the top
accounts, one GROUPING SETS statement); when the set is empty a third gives the counts proving it empty.
On DuckDB the set is a temporary table, and a question's BM25 matches are found first, as one relation
over the index (archive/fts.py `bm25_matches`), then joined, instead of scoring each candidate.
Tone is scored in SQL only for the counts; the page's quotes get the same rule in Python (`tone_of`).

DuckDB fast path (archive/fts.py search tables, built with the index; not for `persona`, which reads
contacts): the set comes from `voice_postings` (a question: its terms' postings in the window, filtered
and BM25-ranked there) or `voice_snippets` (a topic: the window's snippets in time order), both carrying
the filter columns and the stored tone score, so no snippet text is read except the page's quotes.
Same formula, same answers.

Ranking (all terms in [0, 1], computed in SQL):
  score = 0.55 · relevance + 0.25 · recency + 0.20 · account value,
  then divided by (1 + 0.5 · (k − 1)) for the k-th quote of the same account, so one chatty account does
  not fill the page. Relevance is BM25 of the question normalised by the best match (1 when only a topic
  is asked); recency halves every 30 days before the window's end; account value is the account's
  latest ARR over the highest in the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Float,
    FromClause,
    Select,
    Table,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)

from icp_mcp.archive.fts import (
    bm25_matches,
    bm25_score,
    bm25_search,
    has_fts_index,
    has_search_tables,
    search_postings,
    search_snippets,
)
from icp_mcp.archive.schema import (
    CHANNELS,
    CONTACT_ROLES,
    accounts,
    arr_snapshots,
    contacts,
    conversation_snippets,
    conversations,
    opportunity_contacts,
)
from icp_mcp.archive.topics import load_taxonomy
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.numbers import count
from icp_mcp.archive.tone import TONES, score_expression, sql_constant, tone_of, tone_of_score
from icp_mcp.engine.model.windows import Window
from icp_mcp.engine.sql.lookup import account_profiles
from icp_mcp.engine.sql import cache
from icp_mcp.engine.sql.temp import once

TEXT_CAP = 500
HALF_LIFE_DAYS = 30.0
W_RELEVANCE, W_RECENCY, W_VALUE = 0.55, 0.25, 0.20
TOP_ACCOUNTS = 10


class Quote(BaseModel):
    """One citable snippet."""

    snippet_id: int
    conversation_id: str
    account_id: str | None = None
    account_name: str | None = None
    attribution: str = Field(description="firmographics, e.g. 'a Series B Fintech company'")
    date: str = Field(description="ISO day the conversation happened")
    channel: str
    speaker: str | None = Field(None, description="customer / vendor / None when unknown")
    contact_title: str | None = None
    buying_role: str | None = Field(default=None, description="the contact's role on the account's deals")
    topics: list[str]
    tone: str
    text: str
    truncated: bool = Field(description="text was cut at 500 characters")
    score: float | None = Field(None, description="ranking score (relevance, recency, account value)")


class Count(BaseModel):
    key: str
    n: int


class AccountCount(BaseModel):
    account_id: str
    account_name: str
    n: int


class EmptyEvidence(BaseModel):
    """Counts proving an empty answer is really empty (not a failed query)."""

    cohort_accounts: int = Field(description="accounts in the cohort")
    snippets_in_window: int = Field(description="cohort snippets in the window, any topic")
    snippets_matching_overall: int = Field(description="cohort snippets on the topic/question, any time")
    snippets_overall: int = Field(description="cohort snippets, any topic, any time")


class VoiceResult(BaseModel):
    """Quoted snippets (with account, date, channel, speaker, conversation and snippet ids) plus counts."""

    summary: str
    cohort: str
    window: str
    total: int = Field(description="matching snippets")
    accounts: int
    quotes: list[Quote]
    by_topic: list[Count]
    by_tone: list[Count]
    by_account: list[AccountCount]  # the top TOP_ACCOUNTS accounts by snippets
    empty: EmptyEvidence | None = Field(None, description="counts proving an empty answer is empty")
    next_cursor: str | None = None
    truncated: bool = False


def value_selectable(engine: Engine | None = None) -> Select:
    """`account_id, value` for ranking: each account's ARR in the archive's latest ARR month.

    A cheap proxy for engine/value.py's value score (one scan of the latest month, no percentile ranks).
    Given the engine, the latest month is read once per archive generation and bound as a constant (a
    filter the scan applies, instead of a join with a subquery: ~30% of the lookup at L).
    """
    latest_month = select(func.max(arr_snapshots.c.month))
    latest = None
    if engine is not None:
        def read() -> object:
            with engine.connect() as conn:
                return conn.execute(latest_month).scalar()
        latest = cache.cached(engine, ("voice_latest_arr_month",), read)
    month = latest if latest is not None else latest_month.scalar_subquery()
    return select(arr_snapshots.c.account_id, arr_snapshots.c.arr.label("value")).where(
        arr_snapshots.c.month == month, arr_snapshots.c.arr > 0
    )


@lru_cache(maxsize=1)
def _topic_ids() -> tuple[str, ...]:
    return tuple(load_taxonomy().ids)


def _clean(question: str | None) -> str | None:
    """A free-text question without control characters (they carry no meaning for full-text search)."""
    text = "".join(ch if ch.isprintable() else " " for ch in (question or ""))
    return " ".join(text.split()) or None


def known_topics() -> list[str]:
    """Topic ids of the archive taxonomy (read once per process)."""
    return list(_topic_ids())


def check_topic(topic: str | None) -> str | None:
    """Normalise a topic id or raise naming the allowed topics."""
    if topic is None or not topic.strip():
        return None
    wanted = topic.strip().lower().replace(" ", "_").replace("-", "_")
    ids = known_topics()
    if wanted not in ids:
        raise EngineError("topic", f"unknown topic {topic!r}", ids)
    return wanted


def check_channel(channel: str | None) -> str | None:
    """Normalise a channel or raise naming the allowed channels."""
    if channel is None or not channel.strip():
        return None
    wanted = channel.strip().lower()
    if wanted not in CHANNELS:
        raise EngineError("channel", f"unknown channel {channel!r}", list(CHANNELS))
    return wanted


def _persona_filter(persona: str) -> tuple[ColumnElement[bool], bool]:
    """A contact matches a persona by buying role (exact) or by title / department / seniority (contains);
    the flag says whether the condition reads `contacts` (it must then be joined)."""
    wanted = persona.strip().lower().replace(" ", "_")
    if wanted in CONTACT_ROLES:
        in_role = select(opportunity_contacts.c.contact_id).where(opportunity_contacts.c.role == wanted)
        # uncorrelated: one semi join, not a probe per row
        return conversations.c.contact_id.in_(in_role), False
    like = f"%{persona.strip().lower()}%"
    return or_(
        func.lower(contacts.c.title).like(like),
        func.lower(contacts.c.department).like(like),
        func.lower(contacts.c.seniority).like(like),
    ), True


def _not_vendor() -> ColumnElement[bool]:
    """Snippets not spoken by the vendor (customer turns and unattributed text)."""
    s = conversation_snippets.c
    return or_(s.speaker.is_(None), s.speaker != "vendor")


def _filtered(
    cohort: Select | None,
    window: Window,
    topic: str | None,
    channel: str | None,
    persona: str | None,
    include_vendor: bool,
) -> tuple[list[ColumnElement[bool]], bool]:
    """WHERE conditions over snippets ⋈ conversations (⋈ contacts when `needs_contacts`)."""
    s = conversation_snippets.c
    conds: list[ColumnElement[bool]] = [window.contains(s.occurred_at, timestamps=True)]
    if cohort is not None:
        conds.append(s.account_id.in_(cohort))
    if topic:
        conds.append(s.topics.like(f"%,{topic},%"))
    if channel:
        conds.append(conversations.c.channel == channel)
    if not include_vendor:
        conds.append(_not_vendor())
    needs_contacts = False
    if persona:
        cond, needs_contacts = _persona_filter(persona)
        conds.append(cond)
    return conds, needs_contacts


def _joined(needs_conversations: bool, needs_contacts: bool) -> FromClause:
    """Snippets, joined to conversations (and contacts) only when a filter needs them."""
    if not (needs_conversations or needs_contacts):
        return conversation_snippets
    j = conversation_snippets.join(
        conversations, conversations.c.conversation_id == conversation_snippets.c.conversation_id
    )
    if needs_contacts:
        j = j.join(contacts, contacts.c.contact_id == conversations.c.contact_id)
    return j


def _epoch(col: ColumnElement) -> ColumnElement[float]:
    return cast(extract("epoch", col), Float)


def customer_voice(
    conn: Connection,
    *,
    window: Window,
    cohort: Select | None = None,
    cohort_label: str = "all accounts",
    topic: str | None = None,
    question: str | None = None,
    channel: str | None = None,
    persona: str | None = None,
    value: Select | None = None,
    include_vendor: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> VoiceResult:
    """Quotes and counts for a topic and/or free-text question from `cohort` (a select of account_ids).

    `value` is an optional select of (account_id, value) used for ranking (account value); without it
    accounts rank equally on that term.
    """
    topic = check_topic(topic)
    channel = check_channel(channel)
    question = _clean(question)
    if question is None and topic is None:
        raise EngineError("topic", "give a topic or a question", known_topics())
    if persona is None and _has_search(conn):
        return _answer(conn, _searched(conn, cohort, window, topic, question, channel, include_vendor),
                       ranked=question is not None, materialize=True, window=window, cohort=cohort, cohort_label=cohort_label,
                       topic=topic, question=question, value=value, include_vendor=include_vendor,
                       limit=limit, offset=offset)
    conds, needs_contacts = _filtered(cohort, window, topic, channel, persona, include_vendor)
    s = conversation_snippets.c
    use_fts = question is not None and (conn.dialect.name != "duckdb" or _has_index(conn))
    if question is not None and not use_fts:  # no index: fall back to a plain substring filter
        conds.append(func.lower(s.text).like(f"%{question.lower()}%"))
    joined = _joined(bool(channel or persona), needs_contacts)
    bm25: ColumnElement | None = None
    matched = False  # the join keeps only matching snippets
    if use_fts and question is not None and conn.dialect.name == "duckdb":  # DuckDB: the matches, joined
        matches = bm25_matches(conn, question)
        joined = joined.join(matches, matches.c.snippet_id == s.snippet_id, isouter=topic is not None)
        bm25, matched = matches.c.score, topic is None
    elif use_fts and question is not None:
        bm25 = bm25_score(conn, question)
    only_matches = bm25 is not None and topic is None and not matched

    cols = [
        s.snippet_id, s.conversation_id, s.account_id, s.occurred_at, s.speaker, s.topics,
        func.substr(s.text, 1, TEXT_CAP).label("text"),
        (func.length(s.text) > TEXT_CAP).label("truncated"),
        (bm25 if bm25 is not None else literal(None, Float)).label("bm25"),
        s.text.label("full_text"),
    ]
    filtered = select(*cols).select_from(joined).where(and_(*conds))
    if only_matches:  # BM25 once (as a column), not a second time in WHERE: a materialized CTE
        scored = filtered.cte("voice_scored").prefix_with("MATERIALIZED")
        filtered = select(*scored.c).where(scored.c.bm25.is_not(None))
    return _answer(conn, filtered, ranked=bm25 is not None, materialize=bm25 is not None, window=window, cohort=cohort,
                   cohort_label=cohort_label, topic=topic, question=question, value=value,
                   include_vendor=include_vendor, limit=limit, offset=offset)


def _answer(
    conn: Connection, filtered: Select, *, ranked: bool, materialize: bool, window: Window, cohort: Select | None,
    cohort_label: str, topic: str | None, question: str | None, value: Select | None, include_vendor: bool,
    limit: int, offset: int,
) -> VoiceResult:
    """The page, the counts and the result from the filtered snippets (either path); `materialize`: as a
    temporary table (see `_once`)."""
    with _once(conn, filtered, expensive=materialize) as base:
        page = _page(conn, base, window, value, limit, offset, ranked)
        counts = _counts(conn, _toned(base).subquery("voice_toned"))
    if page and "full_text" not in page[0]:  # the search tables carry no text: the page's, by id
        _add_text(conn, page)
    total = counts["total"]
    cards = account_profiles(conn, [r["account_id"] for r in page] + [a for a, _ in counts["by_account"]])
    quotes = _quotes(conn, page, cards)
    by_account = [AccountCount(account_id=a, account_name=cards.get(a, (None, ""))[0] or a, n=n)
                  for a, n in counts["by_account"]]
    empty = None
    if total == 0:
        empty = _empty_evidence(conn, cohort, window, topic, question, include_vendor)
    summary = _summary(total, counts["accounts"], topic, question, cohort_label, window, empty)
    return VoiceResult(
        cohort=cohort_label,
        window=window.describe(),
        total=total,
        accounts=counts["accounts"],
        quotes=quotes,
        by_topic=counts["by_topic"],
        by_tone=counts["by_tone"],
        by_account=by_account,
        empty=empty,
        summary=summary,
    )


def _has_search(conn: Connection) -> bool:
    """Whether the DuckDB archive has the search tables built with its index (once per generation)."""
    if conn.dialect.name != "duckdb":
        return False
    return cache.cached(conn.engine, ("voice_search",), lambda: has_search_tables(conn))


def _searched(
    conn: Connection, cohort: Select | None, window: Window, topic: str | None, question: str | None,
    channel: str | None, include_vendor: bool,
) -> Select:
    """The filtered snippets from the search tables: `snippet_id, account_id, occurred_at, topics,
    tone_score, bm25` (the columns `_page` and `_counts` read)."""

    def conds(t) -> list[ColumnElement[bool]]:
        out = [window.contains(t.c.occurred_at, timestamps=True)]
        if cohort is not None:
            out.append(t.c.account_id.in_(cohort))
        if channel:
            out.append(t.c.channel == channel)
        if not include_vendor:
            out.append(or_(t.c.speaker.is_(None), t.c.speaker != "vendor"))
        return out

    def cols(t, bm25: ColumnElement) -> list[ColumnElement]:
        return [t.c.snippet_id, t.c.account_id, t.c.occurred_at, t.c.topics, t.c.tone_score, bm25.label("bm25")]

    if question is not None and topic is None:  # only the matches, filtered among the postings
        m = bm25_search(conn, question, conds(search_postings)).subquery("voice_matches")
        return select(*cols(m, m.c.score))
    f = search_snippets
    where = conds(f) + ([f.c.topics.like(f"%,{topic},%")] if topic else [])
    if question is None:
        return select(*cols(f, literal(None, Float))).where(*where)
    in_window = [window.contains(search_postings.c.occurred_at, timestamps=True)]
    m = bm25_search(conn, question, in_window).subquery("voice_matches")
    return select(*cols(f, m.c.score)).select_from(f.outerjoin(m, m.c.snippet_id == f.c.snippet_id)).where(*where)


def _add_text(conn: Connection, page: list[dict]) -> None:
    """Add each page row's conversation id, speaker and text (cut and full), read by snippet id."""
    s = conversation_snippets.c
    rows = conn.execute(select(
        s.snippet_id, s.conversation_id, s.speaker,
        func.substr(s.text, 1, TEXT_CAP).label("text"),
        (func.length(s.text) > TEXT_CAP).label("truncated"),
        s.text.label("full_text"),
    ).where(s.snippet_id.in_([r["snippet_id"] for r in page]))).mappings().all()
    found = {int(r["snippet_id"]): r for r in rows}
    for r in page:
        r.update(found[int(r["snippet_id"])])


def _has_index(conn: Connection) -> bool:
    """Whether the DuckDB archive has its full-text index (asked once per archive generation: ingest
    rebuilds the index and bumps the generation)."""
    return cache.cached(conn.engine, ("fts_index",), lambda: has_fts_index(conn))


def _once(conn: Connection, filtered: Select, *, expensive: bool):
    """The filtered snippets once: a DuckDB temporary table when computing them is expensive (a question's
    full-text match), so the page and the counts do not each score it, or when they come from the search
    tables (a small table: the page's value lookup then pushes the answer's accounts into its scan); a CTE
    otherwise. (A topic-only answer of the general path over a temporary table met a DuckDB internal error,
    "Attempted to access index 0 within vector of size 0", that invalidated the database; materializing it
    bought no measurable time.)"""
    return once(conn, filtered, "voice_base", materialize=expensive)


def _toned(filtered) -> Select:
    """The filtered snippets with their tone, scored after the filters (three regex passes a row), or from
    the stored score (search tables)."""
    f = filtered.c
    if "tone_score" in f:
        return select(*[c for c in f if c.name != "tone_score"], tone_of_score(f.tone_score).label("tone"))
    keep = [c for c in filtered.c if c.name != "full_text"]
    scored = select(*keep, score_expression(f.full_text).label("tone_score")).subquery("voice_scored")
    rest = [c for c in scored.c if c.name != "tone_score"]
    return select(*rest, tone_of_score(scored.c.tone_score).label("tone"))


#: A temporary base with at most this many accounts binds them as a list in the value lookup.
MAX_BOUND_ACCOUNTS = 1000


def _answer_accounts(conn: Connection, base) -> Select | list[str]:
    """The answer's accounts for the value lookup: read from a temporary base and bound as a list when they
    are few (a best:20 answer at L: the ARR lookup 90 → 20 ms, instead of a semi-join over the month's 258k
    ARR rows), else a subquery of the base (a CTE is not computed twice)."""
    inner = select(base.c.account_id).distinct()
    if not isinstance(base, Table):
        return inner
    ids = [r[0] for r in conn.execute(inner.limit(MAX_BOUND_ACCOUNTS + 1))]
    return ids if len(ids) <= MAX_BOUND_ACCOUNTS else inner


def _page(
    conn: Connection, base, window: Window, value: Select | None, limit: int, offset: int, ranked: bool
) -> list[dict]:
    b = base.c
    if ranked:
        best = func.max(b.bm25).over()
        relevance = func.coalesce(b.bm25 / func.nullif(best, 0), 0.0)
    else:
        relevance = literal(1.0, Float)  # every snippet carries the topic
    end_epoch = literal(window.end_at.replace(tzinfo=UTC).timestamp(), Float)
    age_days = (end_epoch - _epoch(b.occurred_at)) / 86400.0
    recency = func.pow(0.5, func.greatest(age_days, 0.0) / HALF_LIFE_DAYS)
    src = base
    value_term: ColumnElement[float] = literal(0.5, Float)
    if value is not None:
        only = value.where(value.selected_columns[0].in_(_answer_accounts(conn, base)))  # the answer's accounts
        v = only.subquery("acct_value")
        key_col, vcol = list(v.c)[:2]
        src = base.outerjoin(v, key_col == b.account_id)
        value_term = func.coalesce(vcol / func.nullif(func.max(vcol).over(), 0), 0.0)
    raw = (W_RELEVANCE * relevance + W_RECENCY * recency + W_VALUE * value_term).label("raw")
    scored = select(*b, raw).select_from(src).subquery("scored")
    k = func.row_number().over(
        partition_by=scored.c.account_id, order_by=(scored.c.raw.desc(), scored.c.snippet_id)
    )
    final = (scored.c.raw / (1.0 + 0.5 * (k - 1))).label("score")
    ranked_q = select(*scored.c, final).subquery("ranked")
    order = (ranked_q.c.score.desc(), ranked_q.c.snippet_id)
    stmt = select(ranked_q).order_by(*order).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _counts(conn: Connection, base) -> dict:
    """Totals by topic and tone plus the top accounts (`by_account`: (account_id, snippets)) in one statement
    (GROUPING SETS: per account, all)."""
    b = base.c
    topics = known_topics()
    one, zero = literal_column("1"), literal_column("0")
    sums = [
        func.sum(case((b.topics.like(sql_constant(f"%,{t},%")), one), else_=zero)).label(f"t_{t}")
        for t in topics
    ] + [func.sum(case((b.tone == sql_constant(t), one), else_=zero)).label(f"tone_{t}") for t in TONES]
    grouped = (
        select(b.account_id, func.grouping(b.account_id).label("is_total"), func.count().label("n"), *sums)
        .group_by(func.grouping_sets(tuple_(b.account_id), tuple_()))
        .subquery("voice_counts")
    )
    g = grouped.c
    ranked = select(
        *g,
        func.row_number().over(partition_by=g.is_total, order_by=(g.n.desc(), g.account_id)).label("rk"),
        func.count().over(partition_by=g.is_total).label("groups"),
    ).subquery("voice_ranked")
    r = ranked.c
    rows = conn.execute(
        select(ranked).where(or_(r.is_total == 1, r.rk <= TOP_ACCOUNTS)).order_by(r.is_total.desc(), r.rk)
    ).mappings().all()
    total_row = next((m for m in rows if m["is_total"] == 1), None)
    acct_rows = [m for m in rows if m["is_total"] != 1]
    total = int(total_row["n"]) if total_row else 0
    by_topic = sorted(
        (Count(key=t, n=int(total_row[f"t_{t}"] or 0)) for t in topics if total_row and total_row[f"t_{t}"]),
        key=lambda c: -c.n,
    )
    by_tone = [Count(key=t, n=int(total_row[f"tone_{t}"] or 0) if total_row else 0) for t in TONES]
    by_account = [(m["account_id"], int(m["n"])) for m in acct_rows]
    accounts_n = int(acct_rows[0]["groups"]) if acct_rows else 0
    return {"total": total, "accounts": accounts_n, "by_topic": by_topic, "by_tone": by_tone,
            "by_account": by_account}


def _roles(conn: Connection, contact_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """contact_id → (title, most frequent buying role) for the contacts on one page."""
    ids = sorted({c for c in contact_ids if c})
    if not ids:
        return {}
    titles = dict(
        conn.execute(
            select(contacts.c.contact_id, contacts.c.title).where(contacts.c.contact_id.in_(ids))
        ).all()
    )
    counted = (
        select(opportunity_contacts.c.contact_id, opportunity_contacts.c.role, func.count().label("n"))
        .where(opportunity_contacts.c.contact_id.in_(ids))
        .group_by(opportunity_contacts.c.contact_id, opportunity_contacts.c.role)
        .order_by(opportunity_contacts.c.contact_id, func.count().desc(), opportunity_contacts.c.role)
    )
    roles: dict[str, str] = {}
    for cid, role, _ in conn.execute(counted):
        roles.setdefault(cid, role)
    return {cid: (titles.get(cid), roles.get(cid)) for cid in ids}


def _conversations(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """conversation_id → (channel, contact_id) for the conversations on one page."""
    if not ids:
        return {}
    c = conversations.c
    rows = conn.execute(select(c.conversation_id, c.channel, c.contact_id).where(c.conversation_id.in_(ids)))
    return {cid: (channel, contact) for cid, channel, contact in rows}


def _quotes(conn: Connection, rows: list[dict], cards: dict[str, tuple[str | None, str]]) -> list[Quote]:
    """The page's quotes; `cards`: account_id → (name, firmographic label) (`account_profiles`)."""
    convs = _conversations(conn, sorted({r["conversation_id"] for r in rows}))
    for r in rows:
        r["channel"], r["contact_id"] = convs.get(r["conversation_id"], ("", None))
    people = _roles(conn, [r["contact_id"] for r in rows])
    out = []
    for r in rows:
        title, role = people.get(r["contact_id"], (None, None))
        name, profile = cards.get(r["account_id"], (None, "a company"))
        when = r["occurred_at"]
        out.append(
            Quote(
                snippet_id=int(r["snippet_id"]),
                conversation_id=r["conversation_id"],
                account_id=r["account_id"],
                account_name=name or r["account_id"],
                attribution=profile,
                date=(when.date() if isinstance(when, datetime) else when).isoformat(),
                channel=r["channel"],
                speaker=r["speaker"],
                contact_title=title,
                buying_role=role,
                topics=[t for t in (r["topics"] or "").split(",") if t],
                tone=tone_of(r["full_text"] or ""),
                text=r["text"],
                truncated=bool(r["truncated"]),
                score=round(float(r["score"]), 4),
            )
        )
    return out


def _empty_evidence(
    conn: Connection, cohort: Select | None, window: Window, topic: str | None, question: str | None,
    include_vendor: bool,
) -> EmptyEvidence:
    s = conversation_snippets.c
    conds: list[ColumnElement[bool]] = []
    if cohort is not None:
        conds.append(s.account_id.in_(cohort))
    if not include_vendor:
        conds.append(_not_vendor())
    in_window = window.contains(s.occurred_at, timestamps=True)
    matching: ColumnElement[bool] = literal(True)
    if topic:
        matching = s.topics.like(f"%,{topic},%")
    if question:
        matching = and_(matching, func.lower(s.text).like(f"%{question.lower()}%"))
    row = conn.execute(
        select(
            func.coalesce(func.sum(case((in_window, 1), else_=0)), 0),
            func.coalesce(func.sum(case((matching, 1), else_=0)), 0),
            func.count(),
        ).where(and_(literal(True), *conds))
    ).one()
    if cohort is not None:
        n_accounts = conn.execute(select(func.count()).select_from(cohort.subquery())).scalar_one()
    else:
        n_accounts = conn.execute(select(func.count()).select_from(accounts)).scalar_one()
    return EmptyEvidence(
        cohort_accounts=int(n_accounts),
        snippets_in_window=int(row[0]),
        snippets_matching_overall=int(row[1]),
        snippets_overall=int(row[2]),
    )


def _summary(
    total: int, n_accounts: int, topic: str | None, question: str | None, cohort_label: str, window: Window,
    empty: EmptyEvidence | None,
) -> str:
    about = f"on {topic}" if topic else ""
    if question:
        about = f"{about} matching {question!r}".strip()
    span = f"between {window.start.isoformat()} and {window.last_day.isoformat()}" if window.start else (
        f"up to {window.last_day.isoformat()}"
    )
    if empty is None:
        return f"{count(total)} snippets {about} from {count(n_accounts)} accounts of {cohort_label} {span}."
    return (
        f"0 snippets {about} from {count(empty.cohort_accounts)} accounts ({cohort_label}) {span}; "
        f"{count(empty.snippets_in_window)} snippets on any topic in that window and "
        f"{count(empty.snippets_matching_overall)} {about} in the archive for these accounts overall "
        f"({count(empty.snippets_overall)} snippets in all)."
    )
