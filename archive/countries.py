"""Country names in one form: "USA", "U.S.", "United States of America" → "United States".

CRM exports spell a country many ways (ISO codes, official names, local names); an ICP that counts
"USA" and "United States" as two countries splits one fact in two. Ingest maps every known spelling onto
the common English short name below (the demo archive's names) and keeps the raw value in the account's
attributes (`country_raw`) when it differs. Unknown spellings pass through unchanged.
"""

from __future__ import annotations

#: Common short name → other spellings (compared lower-cased, without dots and surrounding spaces).
COUNTRIES: dict[str, tuple[str, ...]] = {
    "United States": ("us", "usa", "united states of america", "america", "the united states", "estados unidos"),
    "United Kingdom": ("uk", "gb", "gbr", "great britain", "britain", "england", "scotland", "wales",
                       "northern ireland", "united kingdom of great britain and northern ireland"),
    "Germany": ("de", "deu", "deutschland", "federal republic of germany", "allemagne"),
    "France": ("fr", "fra", "french republic"),
    "Canada": ("ca", "can"),
    "Australia": ("au", "aus"),
    "India": ("in", "ind", "bharat"),
    "Japan": ("jp", "jpn", "nippon"),
    "Netherlands": ("nl", "nld", "the netherlands", "holland", "nederland", "kingdom of the netherlands"),
    "Brazil": ("br", "bra", "brasil"),
    "Sweden": ("se", "swe", "sverige"),
    "Mexico": ("mx", "mex", "méxico"),
    "Spain": ("es", "esp", "españa", "espana"),
    "Israel": ("il", "isr"),
    "Singapore": ("sg", "sgp"),
    "Switzerland": ("ch", "che", "schweiz", "suisse", "svizzera"),
    "Argentina": ("ar", "arg"),
    "South Africa": ("za", "zaf", "rsa"),
    "United Arab Emirates": ("ae", "are", "uae", "emirates"),
    "Ireland": ("ie", "irl", "republic of ireland", "éire", "eire"),
    "Chile": ("cl", "chl"),
    "Denmark": ("dk", "dnk", "danmark"),
    "New Zealand": ("nz", "nzl"),
    "Colombia": ("co", "col"),
    "South Korea": ("kr", "kor", "korea", "republic of korea", "korea, republic of", "korea (south)"),
    "Italy": ("it", "ita", "italia"),
    "Norway": ("no", "nor", "norge"),
    "Finland": ("fi", "fin", "suomi"),
    "Poland": ("pl", "pol", "polska"),
    "Austria": ("at", "aut", "österreich", "osterreich"),
    "Belgium": ("be", "bel", "belgië", "belgique"),
    "Portugal": ("pt", "prt"),
    "China": ("cn", "chn", "people's republic of china", "prc"),
    "Hong Kong": ("hk", "hkg"),
    "Taiwan": ("tw", "twn"),
    "Czechia": ("cz", "cze", "czech republic"),
    "Turkey": ("tr", "tur", "türkiye", "turkiye"),
    "Russia": ("ru", "rus", "russian federation"),
    "Vietnam": ("vn", "vnm", "viet nam"),
}

#: Every spelling (lower case, no dots) → the one name; the names map onto themselves too.
ALIASES: dict[str, str] = {
    **{name.lower(): name for name in COUNTRIES},
    **{alias: name for name, aliases in COUNTRIES.items() for alias in aliases},
}


def normalize_country(value: str | None) -> str | None:
    """The one name of a country (Python side of `country_sql`); unknown spellings unchanged."""
    if value is None:
        return None
    key = value.strip().replace(".", "").lower()
    return ALIASES.get(key, value.strip())


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def country_sql(expr: str) -> str:
    """DuckDB SQL mapping a VARCHAR country expression onto the one name (unknown values unchanged)."""
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in sorted(ALIASES.items()))
    key = f"lower(trim(replace({expr}, '.', '')))"
    return f"CASE {key} {whens} ELSE {expr} END"
