"""Tag conversation snippets with topics from a user-editable taxonomy (archive/topics.yaml).

Each topic compiles to one case-insensitive regular expression (its phrases as whole words, plus its
patterns). Tagging is one set-based UPDATE that rewrites `topics` as ",pricing,security_compliance,"
(leading and trailing commas, "," when none) so that a portable `LIKE '%,pricing,%'` finds a topic.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml
from icp_mcp.archive.mappings import sql_str
from icp_mcp.archive.snippets import scope_where
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import Connection, text

DEFAULT_TAXONOMY = "topics.yaml"


class Topic(BaseModel):
    """One topic: an id stored in snippets, a label for people, and what text signals it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _has_matchers(self) -> Topic:
        if not self.phrases and not self.patterns:
            raise ValueError(f"topic {self.id!r} needs at least one phrase or pattern")
        return self

    def regex(self) -> str:
        """One regular expression (RE2 syntax, `\\b` word boundaries) matching any phrase or pattern."""
        parts = [_phrase_regex(p) for p in self.phrases if p.strip()] + list(self.patterns)
        return "|".join(f"(?:{part})" for part in parts)


class Taxonomy(BaseModel):
    """The topics snippets are tagged with."""

    topics: list[Topic]

    @model_validator(mode="after")
    def _unique_ids(self) -> Taxonomy:
        ids = [t.id for t in self.topics]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate topic ids: {', '.join(dupes)}")
        return self

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.topics]

    def get(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def _phrase_regex(phrase: str) -> str:
    """A phrase as a whole-word regex: words escaped, any whitespace between them."""
    words = phrase.strip().split()
    body = r"\s+".join(re.escape(w) for w in words)
    start = r"\b" if re.match(r"\w", words[0]) else ""
    end = r"\b" if re.search(r"\w$", words[-1]) else ""
    return f"{start}{body}{end}"


def load_taxonomy(path: str | None = None) -> Taxonomy:
    """Load a taxonomy YAML (`topics: [{id, label, phrases, patterns}]`); default: the shipped one."""
    if path is None:
        raw = resources.files("icp_mcp.archive").joinpath(DEFAULT_TAXONOMY).read_text(encoding="utf-8")
    else:
        raw = Path(path).expanduser().read_text(encoding="utf-8")
    return Taxonomy.model_validate(yaml.safe_load(raw))


def _sql_literal(value: str) -> str:
    """A SQL string literal for `text()`: quotes doubled, colons escaped so they are not bind markers."""
    return sql_str(value).replace(":", "\\:")


def _match_sql(dialect: str, regex: str) -> str:
    """A SQL predicate: `text` matches `regex`, case-insensitive (the one dialect-specific bit)."""
    if dialect == "duckdb":
        return f"regexp_matches(text, {_sql_literal(regex)}, 'i')"
    pg_regex = regex.replace(r"\b", r"\y")  # PostgreSQL ARE: \b is backspace, \y is a word boundary
    return f"text ~* {_sql_literal(pg_regex)}"


def tag_topics_where(
    conn: Connection, where: str, params: dict[str, object] | None = None, taxonomy: Taxonomy | None = None
) -> dict[str, int]:
    """Tag the snippets matching the SQL fragment `where` (internal callers); return topic → snippets."""
    taxonomy = taxonomy or load_taxonomy()
    params = params or {}
    if not taxonomy.topics:
        conn.execute(text(f"UPDATE conversation_snippets SET topics = ',' WHERE {where}"), params)
        return {}
    dialect = conn.dialect.name
    cases = " || ".join(
        f"CASE WHEN {_match_sql(dialect, t.regex())} THEN '{t.id},' ELSE '' END" for t in taxonomy.topics
    )
    conn.execute(text(f"UPDATE conversation_snippets SET topics = ',' || {cases} WHERE {where}"), params)
    sums = ", ".join(
        f"coalesce(sum(CASE WHEN topics LIKE '%,{t.id},%' THEN 1 ELSE 0 END), 0)" for t in taxonomy.topics
    )
    row = conn.execute(text(f"SELECT {sums} FROM conversation_snippets WHERE {where}"), params).one()
    return {t.id: int(n) for t, n in zip(taxonomy.topics, row, strict=True)}


def tag_topics(
    conn: Connection, conversation_ids: list[str] | None = None, taxonomy: Taxonomy | None = None
) -> dict[str, int]:
    """Rewrite `topics` for the snippets of the given conversations (all when None).

    Returns, per topic id, how many of those snippets carry it. `taxonomy` defaults to archive/topics.yaml.
    """
    where, params = scope_where(conversation_ids)
    return tag_topics_where(conn, where, params, taxonomy)
