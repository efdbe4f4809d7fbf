"""Job titles made comparable: 'VP of Engineering' → 'VP · Engineering' (personas, buying committee)."""

from __future__ import annotations

import re

_LEVELS = [
    (r"\b(ceo|cto|cfo|cio|ciso|cmo|coo|cro|cpo|cdo)\b", None),
    (r"\bchief\b", "C-level"),
    (r"\b(svp|evp|vp|vice president)\b", "VP"),
    (r"\b(head)\b", "Head"),
    (r"\bdirector\b", "Director"),
    (r"\bmanager\b", "Manager"),
    (r"\b(lead|principal|staff)\b", "Lead"),
]
_CHIEFS = {"financial": "CFO", "finance": "CFO", "technology": "CTO", "technical": "CTO", "information": "CIO",
           "information security": "CISO", "security": "CISO", "marketing": "CMO", "operating": "COO",
           "operations": "COO", "revenue": "CRO", "product": "CPO", "data": "CDO", "executive": "CEO"}
_FUNCTIONS = [
    ("RevOps", r"revops|revenue operations|sales operations|sales ops"),
    ("Security", r"secur|ciso"), ("Data", r"\bdata\b|analytics|\bbi\b|cdo"),
    ("Engineering", r"engineer|software|develop|\bdev\b|cto|architect|platform"),
    ("IT", r"\bit\b|information|infrastructure|systems|cio"),
    ("Sales", r"sales|revenue|\bcro\b|account exec|business development"),
    ("Marketing", r"marketing|growth|demand|\bcmo\b|brand"),
    ("Finance", r"financ|\bcfo\b|controller|accounting"), ("Procurement", r"procure|purchas|sourcing"),
    ("Operations", r"operations|\bops\b|\bcoo\b"), ("Product", r"product|\bcpo\b"),
    ("People", r"\bhr\b|people|talent|human"), ("Customer Success", r"customer success|support|service"),
    ("Executive", r"\bceo\b|founder|president|owner|general manager"),
]


def normalize_title(title: str | None) -> str | None:
    """A coarse, comparable title: 'VP · Engineering', 'CTO', 'Manager · Data'."""
    if not title or not title.strip():
        return None
    t = re.sub(r"[^a-z0-9 ]+", " ", title.lower())
    t = re.sub(r"\s+", " ", t).strip()
    m = re.search(_LEVELS[0][0], t)
    if m:
        return m.group(1).upper()
    chief = re.search(r"\bchief (.+?) officer\b", t)
    if chief and chief.group(1) in _CHIEFS:
        return _CHIEFS[chief.group(1)]
    level = next((name for pattern, name in _LEVELS[1:] if re.search(pattern, t)), "Individual")
    function = next((name for name, pattern in _FUNCTIONS if re.search(pattern, t)), None)
    if function is None:
        return title.strip().title()[:60]
    return f"{level} · {function}"
