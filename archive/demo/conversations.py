"""Conversations in varied customer language: calls and meetings as `Customer:`/`Rep:` turns, the rest prose.

Bodies are composed, not templated whole: every template in phrases.py is rendered several times with
random slot values into a sentence pool, and each conversation picks its sentences from the pool of its
topic (chosen from the contact's department and the channel). The planted best customers also get two
pricing conversations (one in the last 30 days, one in the previous calendar month) in their distinctive
pricing themes. About one in eight bodies mentions the contact's email address or phone number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from icp_mcp.archive.demo import phrases, vocab
from icp_mcp.archive.demo.accounts import TECH_NAMES, Accounts, account_ids
from icp_mcp.archive.demo.columns import choice, choice_rows, ids, join, num, offsets, take, timestamps, where
from icp_mcp.archive.demo.deals import Deals
from icp_mcp.archive.demo.people import People, contact_ids, contact_strings
from icp_mcp.archive.demo.revenue import NEVER, Revenue, first_day, month_of
from icp_mcp.archive.schema import CHANNELS

TOPICS = phrases.TOPICS
THEMES = tuple(str(t["id"]) for t in phrases.PRICING_THEMES)
#: Topic codes 0..7 are TOPICS; 8.. are the planted pricing themes (spoken as pricing).
ALL_TOPICS = TOPICS + THEMES
RENDERS_PER_TEMPLATE = 8
PII_SHARE = 0.12
CHUNK = 400_000

# Topic weights by contact department (rows) and channel (columns mask), in TOPICS order.
DEPARTMENT_TOPICS: dict[str, tuple[float, ...]] = {
    "Finance": (5, 1, 0.5, 0.5, 0.5, 1, 3, 0.5),
    "Executive": (3, 1, 0.5, 1, 0.5, 2, 4, 1),
    "Operations": (1, 0.5, 1.5, 3, 3, 1, 1, 2),
    "Revenue Operations": (1.5, 0.5, 4, 2, 1, 1.5, 2, 2),
    "Sales": (2, 0.5, 2, 1, 1, 2, 2, 1.5),
    "IT": (0.5, 5, 3, 1, 1.5, 0.5, 0.3, 1.5),
    "Procurement": (5, 2, 0.3, 0.3, 0.3, 2, 1, 0.3),
    "Marketing": (1, 0.5, 2, 1.5, 1, 1.5, 2, 2),
    None: (1, 1, 1, 1, 1, 1, 1, 1),
}
CHANNEL_TOPICS: dict[str, tuple[float, ...]] = {
    "call": (1, 1, 1, 1, 1, 1, 1, 1),
    "meeting": (1, 1, 1, 1, 0.5, 1, 1.5, 1),
    "email": (1, 1, 1, 1, 1, 0.5, 0.5, 1),
    "ticket": (0.1, 0.5, 1.5, 0.7, 3, 0, 0, 1),
    "note": (1, 1, 1, 1, 1, 1, 1, 1),
    "survey": (0.3, 0.2, 0.5, 1, 2, 0.5, 3, 2),
}
CHANNEL_MIX = {  # call, meeting, email, ticket, note, survey
    "customer": (0.2, 0.15, 0.25, 0.2, 0.1, 0.1),
    "prospect": (0.3, 0.25, 0.3, 0.0, 0.15, 0.0),
    "cold": (0.0, 0.0, 0.6, 0.0, 0.4, 0.0),
}
DEPARTMENTS = tuple(k for k in DEPARTMENT_TOPICS if k is not None)


class SentencePool:
    """Rendered sentences in one Arrow array, addressed by named groups (offset, size)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.items: list[str] = []
        self.groups: dict[str, tuple[int, int]] = {}
        self.array: pa.Array | None = None

    def add(self, name: str, templates: tuple[str, ...] | list[str], prefix: str = "", renders: int = 1) -> None:
        start = len(self.items)
        for template in templates:
            for _ in range(renders if "{" in template else 1):
                self.items.append(prefix + _render(self.rng, template))
        self.groups[name] = (start, len(self.items) - start)

    def freeze(self) -> None:
        self.array = pa.array(self.items, pa.string())

    def pick(self, rng: np.random.Generator, names: list[str], codes: np.ndarray) -> np.ndarray:
        """One sentence index per row from the group `names[code]`."""
        start = np.array([self.groups[g][0] for g in names])[codes]
        size = np.array([self.groups[g][1] for g in names])[codes]
        return start + np.floor(rng.random(len(codes)) * size).astype(np.int64)

    def text(self, index: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
        assert self.array is not None
        out = self.array.take(pa.array(index))
        return out if present is None else where(present, out)


def _render(rng: np.random.Generator, template: str) -> str:
    slots = {
        "competitor": vocab.COMPETITORS[rng.integers(len(vocab.COMPETITORS))],
        "feature": vocab.PRODUCT_FEATURES[rng.integers(len(vocab.PRODUCT_FEATURES))],
        "n": int(rng.integers(2, 15)), "pct": int(rng.choice([5, 8, 10, 12, 15, 20, 25, 30, 40])),
        "seats": int(rng.choice([15, 25, 40, 60, 80, 120, 200, 350, 500])),
        "amount": int(rng.choice([20, 30, 45, 60, 80, 100, 150, 250])), "weeks": int(rng.integers(2, 13)),
        "tech": TECH_NAMES[rng.integers(len(TECH_NAMES))], "cert": phrases.CERTS[rng.integers(len(phrases.CERTS))],
        "product": vocab.PRODUCTS[rng.integers(len(vocab.PRODUCTS))],
    }
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def build_pool(rng: np.random.Generator) -> SentencePool:
    """Every sentence a conversation can use, rendered once per build."""
    pool = SentencePool(rng)
    theme_phrases = {str(t["id"]): tuple(t["phrases"]) for t in phrases.PRICING_THEMES}  # type: ignore[arg-type]
    for topic in ALL_TOPICS:
        said = theme_phrases.get(topic) or phrases.CUSTOMER[topic]
        reply = phrases.REP["pricing" if topic in theme_phrases else topic]
        pool.add(f"c:{topic}", said, renders=RENDERS_PER_TEMPLATE)
        pool.add(f"C:{topic}", said, prefix="Customer: ", renders=RENDERS_PER_TEMPLATE)
        pool.add(f"R:{topic}", reply, prefix="Rep: ", renders=3)
        pool.add(f"title:{topic}", phrases.TOPIC_TITLES["pricing" if topic in theme_phrases else topic])
    pool.add("R:open", phrases.REP_OPENERS, prefix="Rep: ")
    pool.add("C:open", phrases.CUSTOMER_OPENERS, prefix="Customer: ")
    pool.add("R:close", phrases.REP_CLOSERS, prefix="Rep: ")
    pool.add("greeting", phrases.EMAIL_GREETINGS)
    pool.add("signoff", phrases.EMAIL_SIGNOFFS)
    pool.add("ticket", phrases.TICKET_OPENERS)
    pool.add("note", phrases.NOTE_OPENERS)
    pool.add("survey", phrases.SURVEY_OPENERS, renders=6)
    pool.add("pii:phone", ("You can reach me directly on ", "My mobile is ", "Best number for me is "), prefix="Customer: ")
    pool.add("pii:email", ("Send the paperwork to ", "Please email me at ", "Loop in my inbox: "), prefix="Customer: ")
    pool.add("pii:ticket", ("Best number to reach me: ", "Call me back on "))
    pool.freeze()
    return pool


@dataclass
class Plan:
    """Per-conversation numeric choices, sorted by account and time."""

    account: np.ndarray
    seconds: np.ndarray
    channel: np.ndarray
    contact: np.ndarray  # -1 = none
    topic: np.ndarray
    topic2: np.ndarray  # -1 = none
    pairs: np.ndarray
    pii: np.ndarray

    @property
    def n(self) -> int:
        return len(self.account)


def plan_conversations(
    rng: np.random.Generator, acc: Accounts, deals: Deals, people: People, rev: Revenue, as_of_day: int
) -> Plan:
    """Decide who talks when, on which channel, about what."""
    first_deal = np.full(acc.n, NEVER)
    np.minimum.at(first_deal, deals.account, deals.created)
    last_close = np.full(acc.n, -1)
    np.maximum.at(last_close, deals.account, np.minimum(deals.closed, as_of_day))
    worked = first_deal != NEVER
    kind = np.where(rev.customer, 0, np.where(worked, 1, 2))
    count = np.select([kind == 0, kind == 1], [1 + rng.poisson(2.5, acc.n), rng.poisson(1.5, acc.n)],
                      rng.poisson(0.3, acc.n))
    lo = np.maximum(acc.created_day, as_of_day - 3 * 365)
    lo = np.where(worked, np.maximum(lo, first_deal - 30), lo)
    hi = np.where(rev.customer, np.minimum(as_of_day, rev.churn_day + 45),
                  np.where(worked, np.minimum(as_of_day, last_close + 60), as_of_day))
    lo = np.minimum(lo, hi)
    account = np.repeat(np.arange(acc.n), count)
    day = lo[account] + np.floor(rng.random(len(account)) * (hi - lo + 1)[account]).astype(np.int64)
    mix = np.array([CHANNEL_MIX[k] for k in ("customer", "prospect", "cold")])
    channel = choice_rows(rng, mix[kind[account]])
    topic_override = np.full(len(account), -1)

    # The planted pricing conversations of the best customers.
    best = rev.best
    theme_of = rng.integers(0, len(THEMES), len(best))
    as_of_month = int(month_of(as_of_day))
    prev_lo, prev_hi = int(first_day(as_of_month - 1)), int(first_day(as_of_month)) - 1
    recent = as_of_day - rng.integers(0, 30, len(best))
    previous = prev_lo + rng.integers(0, prev_hi - prev_lo + 1, len(best))
    account = np.concatenate([account, best, best])
    day = np.concatenate([day, recent, previous])
    theme_channel = choice(rng, (0.45, 0.3, 0.25), 2 * len(best))
    channel = np.concatenate([channel, theme_channel])
    topic_override = np.concatenate([topic_override, np.tile(len(TOPICS) + theme_of, 2)])

    n = len(account)
    contact_count = np.bincount(people.account, minlength=acc.n)
    contact_start = offsets(contact_count)
    has_contact = contact_count[account] > 0
    contact = np.where(
        has_contact,
        contact_start[account] + np.floor(rng.random(n) * np.maximum(contact_count[account], 1)).astype(np.int64),
        -1,
    )
    dept_names = [vocab.TITLES[t][0] for t in vocab.TITLE_NAMES]
    dept_of_title = np.array([DEPARTMENTS.index(d) for d in dept_names])
    dept = np.where(has_contact, dept_of_title[people.title[np.maximum(contact, 0)]], len(DEPARTMENTS))
    dept_w = np.array([DEPARTMENT_TOPICS[d] for d in DEPARTMENTS] + [DEPARTMENT_TOPICS[None]])
    chan_w = np.array([CHANNEL_TOPICS[c] for c in CHANNELS])
    weights = dept_w[dept] * chan_w[channel]
    topic = np.where(topic_override >= 0, topic_override, choice_rows(rng, weights))
    topic2 = np.where(rng.random(n) < 0.4, choice_rows(rng, weights), -1)
    topic2 = np.where(topic2 == topic, -1, topic2)
    pairs = choice(rng, (0.35, 0.4, 0.25), n) + 1
    survey_or_note = np.isin(channel, [CHANNELS.index("survey"), CHANNELS.index("note")])
    pii = has_contact & ~survey_or_note & (rng.random(n) < PII_SHARE)
    seconds = day * 86400 + rng.integers(8 * 3600, 18 * 3600, n)
    order = np.lexsort((seconds, account))
    return Plan(account[order], seconds[order], channel[order], contact[order], topic[order], topic2[order],
                pairs[order], pii[order])


def conversation_tables(
    rng: np.random.Generator, pool: SentencePool, plan: Plan, acc: Accounts, people: People
) -> Iterator[pa.Table]:
    """The `conversations` table in chunks of CHUNK rows."""
    strings = contact_strings(acc, people)
    for lo in range(0, plan.n, CHUNK):
        rows = slice(lo, min(lo + CHUNK, plan.n))
        yield _render_chunk(rng, pool, plan, rows, strings, np.arange(rows.start, rows.stop))


def _render_chunk(
    rng: np.random.Generator, pool: SentencePool, plan: Plan, rows: slice, strings: dict[str, pa.Array],
    numbers: np.ndarray,
) -> pa.Table:
    channel, topic, topic2 = plan.channel[rows], plan.topic[rows], plan.topic2[rows]
    pairs, pii, contact = plan.pairs[rows], plan.pii[rows], plan.contact[rows]
    n = len(channel)
    names = list(ALL_TOPICS)
    t2 = np.maximum(topic2, 0)
    has2 = topic2 >= 0

    def said(prefix: str, codes: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
        return pool.text(pool.pick(rng, [f"{prefix}:{t}" for t in names], codes), present)

    def one(group: str, present: np.ndarray | None = None) -> pa.Array:
        return pool.text(pool.pick(rng, [group], np.zeros(n, np.int64)), present)

    safe_contact = pa.array(np.maximum(contact, 0))
    phone = strings["phone"].take(safe_contact)
    email = strings["email"].take(safe_contact)
    name = strings["name"].take(safe_contact)
    use_email = rng.random(n) < 0.5

    # Calls and meetings: speaker turns, one per line.
    turns = [one("R:open"), one("C:open", rng.random(n) < 0.7)]
    for k in range(3):
        turns += [said("C", topic, pairs > k), said("R", topic, (pairs > k) & (rng.random(n) < 0.85))]
    turns += [said("C", t2, has2), said("R", t2, has2 & (rng.random(n) < 0.6))]
    pii_line = join(pc.if_else(pa.array(use_email), one("pii:email"), one("pii:phone")),
                    pc.if_else(pa.array(use_email), email, phone), ".")
    turns += [where(pii, pii_line), one("R:close")]
    spoken = join(*turns, sep="\n")

    # Prose: the customer's sentences on the topic(s).
    paragraph = join(*[said("c", topic, pairs > k) for k in range(3)], said("c", t2, has2), sep=" ")
    signature = join(name, where(pii, join(email, phone, sep=" | ")), sep="\n")
    email_body = join(one("greeting"), "", paragraph, "", one("signoff"), signature, sep="\n")
    ticket_pii = join(one("pii:ticket"), phone, ".")
    ticket_body = join(one("ticket"), paragraph, where(pii, ticket_pii), sep=" ")
    note_body = join(one("note"), paragraph, sep=" ")
    survey_body = join(one("survey"), paragraph, sep=" ")

    code = pa.array(channel)
    body = spoken
    for c, text in (("email", email_body), ("ticket", ticket_body), ("note", note_body), ("survey", survey_body)):
        body = pc.if_else(pc.equal(code, CHANNELS.index(c)), text, body)

    topic_title = said("title", topic)
    heads = {
        "call": "Call: ", "meeting": "Meeting: ", "email": "Re: ", "note": "Note: ", "survey": "Survey: ",
    }
    title = join("Ticket #", num(rng.integers(10_000, 99_999, n)), ": ", topic_title)
    for c, head in heads.items():
        title = pc.if_else(pc.equal(code, CHANNELS.index(c)), join(head, topic_title), title)
    return pa.table({
        "conversation_id": ids("CV", numbers, 9),
        "account_id": account_ids(plan.account[rows]),
        "contact_id": where(contact >= 0, contact_ids(np.maximum(contact, 0))),
        "occurred_at": timestamps(plan.seconds[rows]),
        "channel": take(CHANNELS, channel),
        "title": title,
        "body": body,
    })
