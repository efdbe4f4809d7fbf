"""The truth manifest `<archive>.truth.json`: what the demo generator planted, and what the data shows.

Consumers (the ICP engine's tests, `icp-mcp demo summary`) read it with `read_manifest`. Planted rates are
the generator's knobs; `observed` blocks hold the rates measured on the built archive, with their `n`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from icp_mcp.archive.demo import phrases, plan
from pydantic import BaseModel, Field


class Condition(BaseModel):
    """One attribute condition: `values` for categories and technologies, `min`/`max` for numbers."""

    attribute: str
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None


class Segment(BaseModel):
    id: str
    name: str
    conditions: list[Condition]
    win_rate: float
    observed: dict[str, Any] = Field(default_factory=dict)


class Disqualifier(BaseModel):
    id: str
    attribute: str
    values: list[str]
    win_rate: float
    note: str = ""
    observed: dict[str, Any] = Field(default_factory=dict)


class Persona(BaseModel):
    role: str
    titles: list[str]
    title_variants: list[str]
    lift: float
    observed: dict[str, Any] = Field(default_factory=dict)


class Trigger(BaseModel):
    kind: str
    window_days: int
    win_rate_multiplier: float
    observed: dict[str, Any] = Field(default_factory=dict)


class PricingTheme(BaseModel):
    id: str
    label: str
    keywords: list[str]


class Manifest(BaseModel):
    """Everything the demo generator planted into one archive."""

    seed: int
    size: str
    as_of: str
    drift_enabled: bool
    accounts: int
    counts: dict[str, int] = Field(default_factory=dict)
    base_win_rate: float
    observed_base: dict[str, Any] = Field(default_factory=dict)
    segments: list[Segment]
    disqualifiers: list[Disqualifier]
    noise_attributes: list[str]
    noise_observed: dict[str, Any] = Field(default_factory=dict)
    personas: list[Persona]
    triggers: list[Trigger]
    pricing_themes: list[PricingTheme]
    best_customer_ids: list[str]
    best_customers_rule: str
    feature_adoption: dict[str, Any]
    drift: dict[str, Any] | None
    wins_last_90_days: int = 0
    build_seconds: float = 0.0


def manifest_path(archive: str | os.PathLike[str]) -> Path:
    """`demo.duckdb` → `demo.duckdb.truth.json` (next to the archive)."""
    archive = Path(archive)
    return archive.with_name(archive.name + ".truth.json")


def read_manifest(archive: str | os.PathLike[str]) -> Manifest:
    """Load the manifest written next to `archive`."""
    return Manifest.model_validate_json(manifest_path(archive).read_text())


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n")
    os.replace(tmp, path)


def _persona_lift(role: str, titles: tuple[str, ...]) -> float:
    def share(outcome: str) -> float:
        mix = plan.ROLE_TITLES[role][outcome]
        return plan.ROLE_PRESENCE[outcome][role] * sum(mix.get(t, 0.0) for t in titles)

    return round(share("won") / share("lost"), 2)


def planted_manifest(seed: int, size: str, as_of: str, drift: bool, accounts: int, best_ids: list[str]) -> Manifest:
    """The manifest as planned (before the observed blocks are filled in)."""
    from icp_mcp.archive.demo.vocab import TITLES

    return Manifest(
        seed=seed, size=size, as_of=as_of, drift_enabled=drift, accounts=accounts,
        base_win_rate=plan.BASE_WIN_RATE,
        segments=[Segment(id=s.id, name=s.name, conditions=[Condition(**c) for c in s.conditions],
                          win_rate=s.win_rate) for s in plan.SEGMENTS],
        disqualifiers=[Disqualifier(id=d.id, attribute=d.attribute, values=list(d.values), win_rate=d.win_rate,
                                    note=d.note) for d in plan.DISQUALIFIERS],
        noise_attributes=list(plan.NOISE_ATTRIBUTES),
        personas=[Persona(role=role, titles=list(titles),
                          title_variants=[v for t in titles for v in TITLES[t][2]],
                          lift=_persona_lift(role, titles)) for role, titles in plan.PERSONAS],
        triggers=[Trigger(kind=plan.TRIGGER_KIND, window_days=plan.TRIGGER_WINDOW_DAYS,
                          win_rate_multiplier=plan.TRIGGER_MULTIPLIER)],
        pricing_themes=[PricingTheme(id=str(t["id"]), label=str(t["label"]), keywords=list(t["keywords"]))  # type: ignore[arg-type]
                        for t in phrases.PRICING_THEMES],
        best_customer_ids=best_ids,
        best_customers_rule=(
            f"retained customers (latest ARR > 0), top {plan.BEST_CUSTOMER_SHARE:.0%} by current ARR "
            f"(at least {plan.BEST_CUSTOMER_MIN}); each has a pricing conversation in the last 30 days and one "
            "in the previous calendar month, in the planted pricing themes"
        ),
        feature_adoption={
            "feature": plan.ADOPTION_FEATURE, "segment": plan.ADOPTION_SEGMENT,
            "conditions": [c for s in plan.SEGMENTS if s.id == plan.ADOPTION_SEGMENT for c in s.conditions],
            "rates": dict(plan.ADOPTION_RATES), "adopter_churn_multiplier": plan.SSO_CHURN_MULTIPLIER,
        },
        drift={
            "window_days": plan.DRIFT_WINDOW_DAYS, "attribute": plan.DRIFT_ATTRIBUTE,
            "emerging_values": list(plan.DRIFT_EMERGING), "emerging_win_rate": plan.DRIFT_EMERGING_WIN_RATE,
            "weakened_segment": plan.DRIFT_WEAKENED_SEGMENT, "weakened_win_rate": plan.DRIFT_WEAKENED_WIN_RATE,
            "expected_verdict": "refresh",
        } if drift else None,
    )
