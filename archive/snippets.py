"""Split conversation bodies into citable snippets with one set-based INSERT .. SELECT.

A snippet is what `customer_voice` quotes: one speaker turn, or a window of about two sentences.

* **Turns.** A body that has at least one line beginning `Label:` with a known speaker word becomes one
  snippet per turn (continuation lines belong to the turn above). Customer words give speaker
  `customer`, vendor words give `vendor`; text before the first label becomes a snippet with speaker NULL.
* **Sentence windows.** Any other body (emails, notes, tickets, surveys) is cut into sentences (at `.`,
  `!`, `?` followed by whitespace, and at blank lines) and grouped two by two. Speaker is `customer` for
  tickets and surveys (the customer wrote them) and NULL otherwise (an email or a note may be either side).

Whitespace inside a snippet is collapsed to single spaces. `snippet_id` is a running number ordered by
(conversation_id, seq) and offset by the largest id left after the delete, so two builds of the same
data give the same ids. The whole job is one DELETE and one INSERT .. SELECT (string split + unnest), so
it runs where the data is: millions of conversations on DuckDB, the same SQL shape on PostgreSQL.
"""

from __future__ import annotations

from icp_mcp.archive.mappings import sql_str
from sqlalchemy import Connection, text

CUSTOMER_SPEAKERS: tuple[str, ...] = ("customer", "client", "prospect", "buyer")
VENDOR_SPEAKERS: tuple[str, ...] = ("rep", "ae", "sdr", "csm", "vendor", "support", "agent", "sales")
#: Channels whose un-labelled text was written by the customer.
CUSTOMER_CHANNELS: tuple[str, ...] = ("ticket", "survey")

_LABEL_RE = r"(^|\n)[ \t]*(" + "|".join(CUSTOMER_SPEAKERS + VENDOR_SPEAKERS) + r")[ \t]*:"
_PARAGRAPH_RE = r"\n[ \t\r]*\n\s*"
_SENTENCE_RE = r"([.!?]+[\"'')\]]*)\s+"  # '' is a quote inside the SQL literal


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(sql_str(v) for v in values)


def _dialect_bits(dialect: str) -> dict[str, str]:
    """The only differences between the DuckDB and PostgreSQL versions of the query."""
    if dialect == "duckdb":
        return {"split": "string_split", "intdiv": "//"}
    return {"split": "string_to_array", "intdiv": "/"}


def _insert_sql(dialect: str, where: str) -> str:
    bits = _dialect_bits(dialect)
    split, intdiv = bits["split"], bits["intdiv"]
    return f"""
INSERT INTO conversation_snippets
    (snippet_id, conversation_id, account_id, occurred_at, seq, speaker, text, topics)
WITH src AS (
    SELECT conversation_id, account_id, occurred_at, channel,
           regexp_replace(body, '{_LABEL_RE}', chr(30) || '\\2' || chr(31), 'gi') AS marked
    FROM conversations
    WHERE {where}
),
turn_parts AS (
    SELECT s.conversation_id, s.account_id, s.occurred_at, p.idx AS pos,
           CASE WHEN strpos(p.part, chr(31)) > 0
                THEN lower(trim(split_part(p.part, chr(31), 1))) END AS label,
           trim(regexp_replace(
               CASE WHEN strpos(p.part, chr(31)) > 0
                    THEN substr(p.part, strpos(p.part, chr(31)) + 1) ELSE p.part END,
               '\\s+', ' ', 'g')) AS text
    FROM src AS s, unnest({split}(s.marked, chr(30))) WITH ORDINALITY AS p(part, idx)
    WHERE strpos(s.marked, chr(30)) > 0
),
sentences AS (
    SELECT s.conversation_id, s.account_id, s.occurred_at, s.channel, p.idx,
           trim(regexp_replace(p.part, '\\s+', ' ', 'g')) AS sentence
    FROM src AS s,
         unnest({split}(
             regexp_replace(regexp_replace(s.marked, '{_PARAGRAPH_RE}', chr(30), 'g'),
                            '{_SENTENCE_RE}', '\\1' || chr(30), 'g'),
             chr(30))) WITH ORDINALITY AS p(part, idx)
    WHERE strpos(s.marked, chr(30)) = 0
),
numbered_sentences AS (
    SELECT conversation_id, account_id, occurred_at, channel, sentence,
           row_number() OVER (PARTITION BY conversation_id ORDER BY idx) AS n
    FROM sentences
    WHERE sentence <> ''
),
pieces AS (
    SELECT conversation_id, account_id, occurred_at, pos,
           CASE WHEN label IN ({_in_list(CUSTOMER_SPEAKERS)}) THEN 'customer'
                WHEN label IN ({_in_list(VENDOR_SPEAKERS)}) THEN 'vendor' END AS speaker,
           text
    FROM turn_parts
    WHERE text <> ''
    UNION ALL
    SELECT conversation_id, account_id, occurred_at, min(n) AS pos,
           CASE WHEN channel IN ({_in_list(CUSTOMER_CHANNELS)}) THEN 'customer' END AS speaker,
           string_agg(sentence, ' ' ORDER BY n) AS text
    FROM numbered_sentences
    GROUP BY conversation_id, account_id, occurred_at, channel, (n - 1) {intdiv} 2
),
numbered AS (
    SELECT conversation_id, account_id, occurred_at, speaker, text,
           row_number() OVER (PARTITION BY conversation_id ORDER BY pos) AS seq
    FROM pieces
)
SELECT (SELECT coalesce(max(snippet_id), 0) FROM conversation_snippets)
           + row_number() OVER (ORDER BY conversation_id, seq),
       conversation_id, account_id, occurred_at, seq, speaker, text, ','
FROM numbered
"""


def scope_where(conversation_ids: list[str] | None) -> tuple[str, dict[str, object]]:
    """A WHERE fragment (and its parameters) selecting the given conversations, or all when None.

    The ids travel as one array parameter, so a long list costs one bind, not one per id.
    """
    if conversation_ids is None:
        return "1 = 1", {}
    return "conversation_id IN (SELECT unnest(CAST(:ids AS VARCHAR[])))", {"ids": list(conversation_ids)}


def build_snippets_where(conn: Connection, where: str, params: dict[str, object] | None = None) -> int:
    """Rebuild the snippets of the conversations matching the SQL fragment `where` (internal callers)."""
    params = params or {}
    conn.execute(text(f"DELETE FROM conversation_snippets WHERE {where}"), params)
    conn.execute(text(_insert_sql(conn.dialect.name, where)), params)
    return int(conn.execute(text(f"SELECT count(*) FROM conversation_snippets WHERE {where}"), params).scalar_one())


def build_snippets(conn: Connection, conversation_ids: list[str] | None = None) -> int:
    """Delete and recreate the snippets of the given conversations (all when None); return how many now exist.

    Topics are reset to "," (untagged); run `topics.tag_topics` afterwards and rebuild the FTS index.
    """
    where, params = scope_where(conversation_ids)
    return build_snippets_where(conn, where, params)
