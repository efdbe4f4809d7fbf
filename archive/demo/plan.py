"""The planted truths of the demo archive: every knob the generator turns to make win/loss follow a story.

The generator reads these constants; the manifest (manifest.py) reports them together with the rates
actually observed in the built archive, so the ICP engine's tests can check what it finds against both.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_WIN_RATE = 0.10  # observed outside segments: ~0.12 (funding triggers lift some deals)
#: Win rate of an opportunity whose account is in both segments.
BOTH_SEGMENTS_WIN_RATE = 0.68
WIN_RATE_CAP = 0.9

SAAS_MID_INDUSTRIES: tuple[str, ...] = ("Software", "Fintech")
SAAS_MID_EMPLOYEES: tuple[int, int] = (200, 2000)
SNOWFLAKE = "Snowflake"


@dataclass(frozen=True)
class PlantedSegment:
    id: str
    name: str
    conditions: tuple[dict[str, object], ...]
    win_rate: float


SEGMENTS: tuple[PlantedSegment, ...] = (
    PlantedSegment(
        "seg_saas_mid",
        "Mid-market software and fintech",
        (
            {"attribute": "industry", "values": list(SAAS_MID_INDUSTRIES)},
            {"attribute": "employees", "min": SAAS_MID_EMPLOYEES[0], "max": SAAS_MID_EMPLOYEES[1]},
        ),
        0.60,
    ),
    PlantedSegment("seg_snowflake", "Snowflake data stack", ({"attribute": "technology", "values": [SNOWFLAKE]},), 0.55),
)


@dataclass(frozen=True)
class PlantedDisqualifier:
    id: str
    attribute: str
    values: tuple[str, ...]
    win_rate: float
    note: str


DISQUALIFIERS: tuple[PlantedDisqualifier, ...] = (
    PlantedDisqualifier("dq_preseed", "funding_stage", ("Pre-seed",), 0.02, "pre-seed companies lack budget"),
    PlantedDisqualifier(
        "dq_government", "industry", ("Government",), 0.03, "government: long cycles, procurement, churn"
    ),
)

NOISE_ATTRIBUTES: tuple[str, ...] = ("owner", "business_model", "founded_year")

# Personas: probability that a deal's committee has the role, and the title mix of that role, by outcome.
ROLE_PRESENCE: dict[str, dict[str, float]] = {
    "won": {"economic_buyer": 0.85, "champion": 0.85, "technical_evaluator": 0.5, "user": 0.45,
            "blocker": 0.08, "other": 0.15},
    "lost": {"economic_buyer": 0.2, "champion": 0.25, "technical_evaluator": 0.3, "user": 0.95,
             "blocker": 0.3, "other": 0.15},
}
ROLE_TITLES: dict[str, dict[str, dict[str, float]]] = {
    "economic_buyer": {
        "won": {"CFO": 0.5, "VP Finance": 0.35, "CEO": 0.08, "COO": 0.07},
        "lost": {"CFO": 0.15, "VP Finance": 0.15, "CEO": 0.35, "COO": 0.35},
    },
    "champion": {
        "won": {"Head of RevOps": 0.45, "RevOps Manager": 0.35, "Sales Ops Manager": 0.1, "Director of Sales": 0.1},
        "lost": {"Head of RevOps": 0.1, "RevOps Manager": 0.1, "Sales Ops Manager": 0.4, "Director of Sales": 0.4},
    },
    "technical_evaluator": {
        "won": {"IT Director": 0.3, "Security Engineer": 0.3, "Solutions Architect": 0.2, "Data Engineer": 0.2},
        "lost": {"IT Director": 0.3, "Security Engineer": 0.3, "Solutions Architect": 0.2, "Data Engineer": 0.2},
    },
    "user": {
        "won": {"Operations Manager": 0.5, "Business Analyst": 0.3, "Account Executive": 0.1, "Marketing Manager": 0.1},
        "lost": {"Operations Manager": 0.5, "Business Analyst": 0.3, "Account Executive": 0.1, "Marketing Manager": 0.1},
    },
    "blocker": {
        "won": {"Procurement Manager": 0.4, "IT Director": 0.3, "Security Engineer": 0.3},
        "lost": {"Procurement Manager": 0.4, "IT Director": 0.3, "Security Engineer": 0.3},
    },
    "other": {
        "won": {"Controller": 0.4, "Marketing Manager": 0.3, "Director of Sales": 0.3},
        "lost": {"Controller": 0.4, "Marketing Manager": 0.3, "Director of Sales": 0.3},
    },
}
#: (role, normalized titles) pairs the manifest reports with their lift (won share / lost share).
PERSONAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("economic_buyer", ("CFO", "VP Finance")),
    ("champion", ("Head of RevOps", "RevOps Manager")),
    ("user", ("Operations Manager",)),
)
#: Share of contacts whose raw title is a variant spelling ("Chief Financial Officer" for CFO).
TITLE_VARIANT_SHARE = 0.2

TRIGGER_KIND = "funding"
TRIGGER_WINDOW_DAYS = 120
TRIGGER_MULTIPLIER = 1.8
TRIGGER_SHARE = 0.14  # share of opportunities preceded by a planted funding signal

# Revenue and retention.
YEARLY_CHURN = {"segment": 0.04, "other": 0.18, "government": 0.35}
SSO_CHURN_MULTIPLIER = 0.4
MONTHLY_GROWTH = {"segment": (0.012, 0.006), "other": (0.002, 0.006)}
SEGMENT_AMOUNT_MULTIPLIER = 1.6

ADOPTION_FEATURE = "sso"
ADOPTION_SEGMENT = "seg_saas_mid"
ADOPTION_RATES = {"segment": 0.70, "other": 0.15}

BEST_CUSTOMER_SHARE = 0.05
BEST_CUSTOMER_MIN = 20

DRIFT_WINDOW_DAYS = 90
DRIFT_ATTRIBUTE = "industry"
DRIFT_EMERGING = ("Healthcare",)
DRIFT_EMERGING_WIN_RATE = 0.60
DRIFT_WEAKENED_SEGMENT = "seg_saas_mid"
DRIFT_WEAKENED_WIN_RATE = 0.20

HISTORY_DAYS = 3 * 365
