"""Prompts for three of the journeys: qualify an account (sales), the quarterly ICP review (RevOps),
voice of the customer (marketing). Each one tells the assistant which tools and resources to use."""

from __future__ import annotations

from mcp.server import MCPServer


def qualify_account(account: str) -> str:
    """Sales: does this account fit, why or why not, and whom to talk to."""
    return (
        f"Qualify the account '{account}' against our ICP.\n"
        f"1. Call score_account with account='{account}'. If it returns candidates, pick the right one "
        "(or ask me) and call again with its account_id.\n"
        "2. Report fit_score, tier and win_probability, the strongest criteria met and missed, each with "
        "its evidence (n, rate, interval).\n"
        "3. If any disqualifier fired, call explain_disqualifier with that rule_id and say whether recent "
        "data still supports it.\n"
        "4. Whom to talk to: the answer's `committee` (contacts ranked by the winning personas, with role, "
        "title, lift and last touch; missing winning roles, e.g. no economic buyer known); icp://personas "
        "for what each persona cares about.\n"
        "Cite tool names and counts for every claim."
    )


def quarterly_icp_review() -> str:
    """RevOps: has the ICP drifted, and should it be refreshed?"""
    return (
        "Run our quarterly ICP review.\n"
        "1. Read icp://current for the active ICP and icp://versions for its history.\n"
        "2. Call check_drift and report the verdict with its reasons and evidence.\n"
        "3. If the verdict is 'refresh', call derive_icp to propose a draft, compare it with the active "
        "version (criteria, segments, disqualifiers), and ask me before calling activate_icp.\n"
        "4. Summarise what changed and what the sales team should do differently. Cite counts."
    )


def voice_of_customer(topic: str, cohort: str = "best") -> str:
    """Marketing: what a cohort of customers says about a topic."""
    return (
        f"What do our '{cohort}' customers say about '{topic}'?\n"
        f"1. If the cohort is 'best', call best_customers to see who is in it.\n"
        f"2. Call customer_voice with topic='{topic}' and cohort='{cohort}' and quote the "
        "most representative snippets with their snippet ids, accounts (or their attribution when accounts "
        "are not named to you) and dates.\n"
        "3. Give the counts (snippets, accounts) and say plainly if there is too little data."
    )


def feature_adoption_review(feature: str) -> str:
    """Product: which segments use a feature, and do adopters retain better?"""
    return (
        f"Which segments use '{feature}', and do they retain better?\n"
        f"Call feature_adoption with feature='{feature}' and report adoption per segment (by name) with its "
        "interval, and NRR and churn of adopters vs non-adopters with n. Say where groups are too small."
    )


def disqualifier_review(rule_id: str) -> str:
    """RevOps: why is something a disqualifier, and does recent data still support it?"""
    return (
        f"Why is '{rule_id}' a disqualifier, and does recent data still support it?\n"
        f"Call explain_disqualifier with rule_id='{rule_id}' and report the rule, its evidence against the "
        "base rate, the won exceptions and the recent test, citing the counts."
    )


def segment_review(segment: str) -> str:
    """Marketing: who the best customers of one ICP segment are and what they say."""
    return (
        f"Review ICP segment '{segment}'.\n"
        f"1. Call best_customers with segment='{segment}' and name the top accounts with their value.\n"
        f"2. Call customer_voice with cohort='segment:{segment}' and a topic I care about (ask me), and quote "
        "snippets with their ids. Cite counts."
    )


def register(server: MCPServer) -> None:
    """Add the journey prompts."""
    server.prompt(name="feature_adoption_review", title="Feature adoption review")(feature_adoption_review)
    server.prompt(name="disqualifier_review", title="Disqualifier review")(disqualifier_review)
    server.prompt(name="segment_review", title="Segment review")(segment_review)
    server.prompt(name="qualify_account", title="Qualify an account")(qualify_account)
    server.prompt(name="quarterly_icp_review", title="Quarterly ICP review")(quarterly_icp_review)
    server.prompt(name="voice_of_customer", title="Voice of the customer")(voice_of_customer)
