"""The one rule for account domains, used at ingest (as SQL over the staged rows) and at lookup (in Python).

A domain is stored as a bare host: lower case, no scheme, no `www.`, nothing from the first `/ ? # : @`
on (path, query, port, user) and no trailing dot; empty → NULL. `https://WWW.Acme.com:443/path`,
`acme.com:443` and `acme.com.` all become `acme.com`. The steps are written once (`_STEPS`); both forms
apply them in order with patterns that mean the same in Python `re` and DuckDB's RE2.
"""

from __future__ import annotations

import re

#: (pattern, replacement) applied in order, after trimming and lower-casing; each replaces its first match.
_STEPS: tuple[tuple[str, str], ...] = (
    (r"^[a-z][a-z0-9+.-]*://", ""),  # scheme
    (r"^www\.", ""),
    (r"[/?#:@].*$", ""),  # path, query, fragment, port, user info
    (r"\.$", ""),  # trailing dot of a fully qualified name
)
_COMPILED = tuple((re.compile(p), r) for p, r in _STEPS)


def normalise_domain(text: str | None) -> str | None:
    """A domain, URL or host as the archive stores it (None when nothing is left)."""
    if text is None:
        return None
    host = text.strip().lower()
    for pattern, replacement in _COMPILED:
        host = pattern.sub(replacement, host, count=1)
    return host.strip() or None


def normalise_domain_sql(value_sql: str) -> str:
    """The same rule as a DuckDB SQL expression over the text expression `value_sql` (ingest's staging)."""
    expr = f"lower(trim({value_sql}))"
    for pattern, replacement in _STEPS:
        expr = f"regexp_replace({expr}, '{_sql_text(pattern)}', '{_sql_text(replacement)}')"
    return f"nullif(trim({expr}), '')"


def _sql_text(s: str) -> str:
    return s.replace("'", "''")
