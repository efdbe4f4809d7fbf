"""Accounts and their technology stacks: firmographics drawn as numpy arrays, rendered as Arrow tables.

Noise attributes (owner, business_model, founded_year) are drawn independently of everything else, so
they carry no signal. Pre-seed companies are small; government bodies have no funding stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from icp_mcp.archive.demo import plan, vocab
from icp_mcp.archive.demo.columns import choice, group_rank, ids, join, num, take, timestamps

INDUSTRY_NAMES = tuple(row[0] for row in vocab.INDUSTRIES)
COUNTRY_NAMES = tuple(row[0] for row in vocab.COUNTRIES)
TECH_NAMES = tuple(row[0] for row in vocab.TECHNOLOGIES)
FUNDING_SHARES = (0.07, 0.12, 0.15, 0.14, 0.10, 0.07, 0.10, 0.10, 0.15)
MODEL_SHARES = (0.6, 0.15, 0.13, 0.12)


@dataclass
class Accounts:
    """Per-account arrays (index i is account number i, id `A{i:07d}`)."""

    n: int
    industry: np.ndarray
    country: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray
    founded: np.ndarray
    funding: np.ndarray  # -1 = NULL
    model: np.ndarray
    owner: np.ndarray
    created_day: np.ndarray
    created_sec: np.ndarray
    name_a: np.ndarray
    name_b: np.ndarray
    suffix: np.ndarray
    tld: np.ndarray
    dup: np.ndarray
    tech_account: np.ndarray
    tech_code: np.ndarray
    snowflake: np.ndarray
    saas_mid: np.ndarray
    preseed: np.ndarray
    government: np.ndarray

    @property
    def disqualified(self) -> np.ndarray:
        return self.preseed | self.government

    def industry_is(self, names: tuple[str, ...]) -> np.ndarray:
        return np.isin(self.industry, [INDUSTRY_NAMES.index(x) for x in names])


def generate_accounts(rng: np.random.Generator, n: int, as_of_day: int, as_of_year: int) -> Accounts:
    """Draw `n` accounts whose data ends on `as_of_day` (days since 1970-01-01)."""
    industry = choice(rng, [row[1] for row in vocab.INDUSTRIES], n)
    country = choice(rng, [row[4] for row in vocab.COUNTRIES], n)
    employees = np.clip(np.round(rng.lognormal(np.log(150), 1.35, n)), 3, 250_000).astype(np.int64)
    funding = choice(rng, FUNDING_SHARES, n)
    preseed = funding == vocab.FUNDING_STAGES.index("Pre-seed")
    employees[preseed] = rng.integers(2, 41, int(preseed.sum()))
    government = industry == INDUSTRY_NAMES.index("Government")
    funding[government] = -1
    rev_per_employee = np.array([row[2] for row in vocab.INDUSTRIES])[industry]
    revenue = np.round(employees * rev_per_employee * rng.lognormal(0, 0.35, n), -3)
    founded = np.clip(as_of_year - 1 - np.floor(rng.exponential(18, n)), 1900, as_of_year - 1).astype(np.int32)
    model = choice(rng, MODEL_SHARES, n)
    owner = rng.integers(0, len(vocab.SALES_REPS), n).astype(np.int32)
    created_day = as_of_day - rng.integers(30, 1640, n)
    created_sec = created_day * 86400 + rng.integers(8 * 3600, 19 * 3600, n)

    name_a = rng.integers(0, len(vocab.NAME_ROOTS_A), n)
    name_b = rng.integers(0, len(vocab.NAME_ROOTS_B), n)
    suffix = rng.integers(0, 1000, n) % np.array([len(row[3]) for row in vocab.INDUSTRIES])[industry]
    tld = choice(rng, (0.55, 0.12, 0.1, 0.05, 0.06, 0.04, 0.04, 0.04), n)
    key = ((name_a * 100 + name_b) * 100 + industry * 8 + suffix) * 10 + tld
    dup = group_rank(key)

    tech_p = np.array([row[1] for row in vocab.TECHNOLOGIES])
    has = rng.random((n, len(tech_p))) < tech_p
    tech_account, tech_code = np.nonzero(has)
    snowflake = has[:, TECH_NAMES.index(plan.SNOWFLAKE)]

    lo, hi = plan.SAAS_MID_EMPLOYEES
    acc = Accounts(
        n=n, industry=industry, country=country, employees=employees, revenue=revenue, founded=founded,
        funding=funding, model=model, owner=owner, created_day=created_day, created_sec=created_sec,
        name_a=name_a, name_b=name_b, suffix=suffix, tld=tld, dup=dup, tech_account=tech_account,
        tech_code=tech_code.astype(np.int32), snowflake=snowflake, saas_mid=np.zeros(n, bool),
        preseed=preseed, government=government,
    )
    acc.saas_mid = acc.industry_is(plan.SAAS_MID_INDUSTRIES) & (employees >= lo) & (employees <= hi)
    return acc


def balance_noise(rng: np.random.Generator, acc: Accounts, won: np.ndarray, lost: np.ndarray) -> None:
    """Re-deal the noise attributes so every value gets the same mix of winning and losing accounts.

    Drawn independently, 20 owners still differ by chance (a few points of win rate at S). Here accounts are
    ordered by (won deals, lost deals, random) and each noise attribute is dealt along that order from a short
    shuffled pattern with the attribute's shares, so each value sees nearly the same outcomes: flat by design.
    """
    order = np.lexsort((rng.random(acc.n), np.minimum(lost, 20), np.minimum(won, 20)))

    def deal(pattern: np.ndarray) -> np.ndarray:
        out = np.empty(acc.n, dtype=pattern.dtype)
        out[order] = np.resize(rng.permutation(pattern), acc.n)
        return out

    acc.owner = deal(np.arange(len(vocab.SALES_REPS), dtype=np.int32))
    acc.model = deal(np.repeat(np.arange(len(MODEL_SHARES), dtype=np.int32), np.round(np.array(MODEL_SHARES) * 100).astype(int)))
    acc.founded = deal(np.sort(acc.founded[rng.permutation(acc.n)[:200]]) if acc.n >= 200 else acc.founded)


def account_ids(numbers: np.ndarray) -> pa.Array:
    return ids("A", numbers, 7)


def names_and_domains(acc: Accounts) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Company name ("Northwind Health"), slug ("northwindhealth") and unique domain."""
    stem = join(take(vocab.NAME_ROOTS_A, acc.name_a), take(vocab.NAME_ROOTS_B, acc.name_b))
    suffix_vocab = [s for row in vocab.INDUSTRIES for s in row[3]]
    suffix_offset = np.cumsum([0] + [len(row[3]) for row in vocab.INDUSTRIES])[:-1]
    suffix = take(suffix_vocab, suffix_offset[acc.industry] + acc.suffix)
    name = join(stem, suffix, sep=" ")
    slug = pc.utf8_lower(join(stem, pc.replace_substring(suffix, " ", "")))
    dup = pc.if_else(pa.array(acc.dup > 0), num(acc.dup + 1), pa.scalar(None, pa.string()))
    domain = join(slug, dup, take(vocab.TLDS, acc.tld))
    return name, slug, domain


def accounts_table(acc: Accounts) -> pa.Table:
    """The `accounts` table."""
    name, _, domain = names_and_domains(acc)
    country_region = [row[2] for row in vocab.COUNTRIES]
    country_territory = [row[3] for row in vocab.COUNTRIES]
    attributes = join('{"name_source": "demo", "employees_band": "', _band(acc.employees), '"}')
    return pa.table({
        "account_id": account_ids(np.arange(acc.n)),
        "name": name,
        "domain": domain,
        "industry": take(INDUSTRY_NAMES, acc.industry),
        "country": take(COUNTRY_NAMES, acc.country),
        "region": take(country_region, acc.country),
        "employees": pa.array(acc.employees, pa.int32()),
        "annual_revenue": pa.array(acc.revenue, pa.float64()),
        "founded_year": pa.array(acc.founded, pa.int32()),
        "funding_stage": take(vocab.FUNDING_STAGES, acc.funding, null_below_zero=True),
        "business_model": take(vocab.BUSINESS_MODELS, acc.model),
        "territory": take(country_territory, acc.country),
        "owner": take(vocab.SALES_REPS, acc.owner),
        "created_at": timestamps(acc.created_sec),
        "attributes": attributes,
    })


def _band(employees: np.ndarray) -> pa.Array:
    edges = np.array([10, 50, 200, 1000, 5000])
    labels = ("1-9", "10-49", "50-199", "200-999", "1000-4999", "5000+")
    return take(labels, np.searchsorted(edges, employees, side="right"))


def technologies_table(acc: Accounts) -> pa.Table:
    """The `account_technologies` table: one row per tool in each stack."""
    return pa.table({
        "account_id": account_ids(acc.tech_account),
        "technology": take(TECH_NAMES, acc.tech_code),
    })

