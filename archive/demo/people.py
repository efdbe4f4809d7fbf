"""Contacts and buying committees (opportunity_contacts), with the planted personas.

Each deal's committee is drawn from role-presence and title probabilities that depend on the deal's
outcome (plan.ROLE_PRESENCE / plan.ROLE_TITLES): won deals have a finance economic buyer and a RevOps
champion far more often; lost deals mostly have users. Every committee member is a contact of the
deal's account; a few more contacts per account are added without a role.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from icp_mcp.archive.demo import plan, vocab
from icp_mcp.archive.demo.accounts import Accounts, account_ids, names_and_domains
from icp_mcp.archive.demo.columns import choice, ids, join, num, take
from icp_mcp.archive.demo.deals import Deals, opportunity_ids
from icp_mcp.archive.schema import CONTACT_ROLES

TITLE_INDEX = {t: i for i, t in enumerate(vocab.TITLE_NAMES)}
VARIANTS = [v for t in vocab.TITLE_NAMES for v in vocab.TITLES[t][2]]
VARIANT_OFFSET = np.cumsum([0] + [len(vocab.TITLES[t][2]) for t in vocab.TITLE_NAMES])[:-1]
VARIANT_COUNT = np.array([len(vocab.TITLES[t][2]) for t in vocab.TITLE_NAMES])
EXTRA_CONTACTS_MEAN = 0.8


@dataclass
class People:
    """Contacts sorted by account (id `C{k:08d}`) and committee rows pointing at them."""

    account: np.ndarray
    title: np.ndarray  # normalized title code (vocab.TITLE_NAMES)
    variant: np.ndarray  # raw title code (VARIANTS)
    first: np.ndarray
    last: np.ndarray
    email_style: np.ndarray
    phone: np.ndarray  # (n, 3) digit groups
    member_opp: np.ndarray
    member_contact: np.ndarray
    member_role: np.ndarray

    @property
    def n(self) -> int:
        return len(self.account)


def generate_people(rng: np.random.Generator, acc: Accounts, deals: Deals) -> People:
    """Draw committees for every deal, then contacts for committee members plus a few extra per account."""
    roles = list(CONTACT_ROLES)
    won = deals.won
    presence = np.zeros((deals.m, len(roles)), bool)
    for r, role in enumerate(roles):
        p = np.where(won, plan.ROLE_PRESENCE["won"][role], plan.ROLE_PRESENCE["lost"][role])
        presence[:, r] = rng.random(deals.m) < p
    presence[~presence.any(axis=1), roles.index("user")] = True
    member_opp, member_role = np.nonzero(presence)
    member_title = np.zeros(len(member_opp), np.int32)
    for r, role in enumerate(roles):
        for outcome, is_won in (("won", True), ("lost", False)):
            sel = np.flatnonzero((member_role == r) & (won[member_opp] == is_won))
            mix = plan.ROLE_TITLES[role][outcome]
            codes = np.array([TITLE_INDEX[t] for t in mix])
            member_title[sel] = codes[choice(rng, list(mix.values()), len(sel))]

    extra = rng.poisson(EXTRA_CONTACTS_MEAN, acc.n)
    extra_account = np.repeat(np.arange(acc.n), extra)
    extra_title = rng.integers(0, len(vocab.TITLE_NAMES), len(extra_account)).astype(np.int32)

    account = np.concatenate([deals.account[member_opp], extra_account])
    title = np.concatenate([member_title, extra_title])
    order = np.argsort(account, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    account, title = account[order], title[order]
    n = len(account)

    use_variant = (rng.random(n) < plan.TITLE_VARIANT_SHARE) & (VARIANT_COUNT[title] > 1)
    variant = VARIANT_OFFSET[title] + np.where(
        use_variant, 1 + np.floor(rng.random(n) * (VARIANT_COUNT[title] - 1)).astype(np.int64), 0
    )
    return People(
        account=account, title=title, variant=variant,
        first=rng.integers(0, len(vocab.FIRST_NAMES), n), last=rng.integers(0, len(vocab.LAST_NAMES), n),
        email_style=choice(rng, (0.7, 0.2, 0.1), n),
        phone=np.stack([rng.integers(200, 1000, n), rng.integers(100, 1000, n), rng.integers(0, 10_000, n)], 1),
        member_opp=member_opp, member_contact=position[: len(member_opp)], member_role=member_role.astype(np.int32),
    )


def contact_ids(numbers: np.ndarray) -> pa.Array:
    return ids("C", numbers, 8)


def contact_strings(acc: Accounts, people: People) -> dict[str, pa.Array]:
    """Name, email and phone of every contact (used by the contacts table and by conversation bodies)."""
    first = take(vocab.FIRST_NAMES, people.first)
    last = take(vocab.LAST_NAMES, people.last)
    _, _, domain = names_and_domains(acc)
    domain = domain.take(pa.array(people.account))
    clean_first = pc.utf8_lower(first)
    clean_last = pc.replace_substring(pc.utf8_lower(last), "'", "")
    local = pc.if_else(
        pa.array(people.email_style == 0), join(clean_first, clean_last, sep="."),
        pc.if_else(pa.array(people.email_style == 1), join(pc.utf8_slice_codeunits(clean_first, 0, 1), clean_last),
                   clean_first),
    )
    codes = take([row[1] for row in vocab.COUNTRIES], acc.country[people.account])
    phone = join(
        codes, num(people.phone[:, 0]), num(people.phone[:, 1]),
        pc.utf8_lpad(num(people.phone[:, 2]), width=4, padding="0"), sep=" ",
    )
    return {"name": join(first, last, sep=" "), "email": join(local, domain, sep="@"), "phone": phone}


def contacts_table(acc: Accounts, people: People) -> pa.Table:
    """The `contacts` table."""
    strings = contact_strings(acc, people)
    dept = [vocab.TITLES[t][0] for t in vocab.TITLE_NAMES]
    seniority = [vocab.TITLES[t][1] for t in vocab.TITLE_NAMES]
    return pa.table({
        "contact_id": contact_ids(np.arange(people.n)),
        "account_id": account_ids(people.account),
        "name": strings["name"],
        "email": strings["email"],
        "phone": strings["phone"],
        "title": take(VARIANTS, people.variant),
        "department": take(dept, people.title),
        "seniority": take(seniority, people.title),
    })


def opportunity_contacts_table(people: People) -> pa.Table:
    """The `opportunity_contacts` table (committee membership with buying roles)."""
    return pa.table({
        "opportunity_id": opportunity_ids(people.member_opp),
        "contact_id": contact_ids(people.member_contact),
        "role": take(CONTACT_ROLES, people.member_role),
    })
