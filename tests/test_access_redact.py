"""Field-level redaction: money without revenue:read, contact PII without pii:read, audit arguments."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from icp_mcp.server.redact import (
    EMAIL_MASK,
    NAME_MASK,
    PHONE_MASK,
    is_money_field,
    redact_arguments,
    redact_pii,
    redact_revenue,
)


class Components(BaseModel):
    arr: float | None = None
    lifetime_revenue: float | None = None
    nrr: float | None = None


class Customer(BaseModel):
    account_id: str
    annual_revenue: float | None = None
    current_arr: float | None = None
    components: Components
    redacted: list[str] = []


class Page(BaseModel):
    items: list[Customer]
    total_amount: float | None = None


def test_money_field_names() -> None:
    for name in ("arr", "amount", "revenue", "lifetime_revenue", "current_arr", "won_amount", "ARR"):
        assert is_money_field(name)
    for name in ("annual_revenue", "nrr", "employees", "arr_rank_pct" , "account_id"):
        assert not is_money_field(name)


def test_redact_revenue_in_models_keeps_shape_and_marks_fields() -> None:
    page = Page(items=[Customer(account_id="a1", annual_revenue=5e6, current_arr=120_000.0,
                                components=Components(arr=120_000.0, lifetime_revenue=3e5, nrr=1.1))],
                total_amount=9.0)
    out = redact_revenue(page)
    assert isinstance(out, Page)
    [item] = out.items
    assert item.current_arr is None and item.components.arr is None and item.components.lifetime_revenue is None
    assert item.components.nrr == 1.1 and item.annual_revenue == 5e6
    assert item.redacted == ["current_arr"]
    assert out.total_amount is None
    assert page.items[0].current_arr == 120_000.0  # the original is untouched
    assert "120000" not in out.model_dump_json()


def test_redact_revenue_in_dicts_and_named_components() -> None:
    data = {
        "customers": [{"name": "Acme", "arr": 10.0, "value": {"lifetime_revenue": 5.0, "nrr": 1.2}}],
        "components": [{"name": "arr", "value": 42.0, "weight": 0.4}, {"name": "nrr", "value": 1.1}],
        "amount": None,
    }
    out = redact_revenue(data)
    assert out["customers"][0]["arr"] is None and out["customers"][0]["redacted"] == ["arr"]
    assert out["customers"][0]["value"] == {"lifetime_revenue": None, "nrr": 1.2, "redacted": ["lifetime_revenue"]}
    assert out["components"][0] == {"name": "arr", "value": None, "weight": 0.4, "redacted": ["value"]}
    assert out["components"][1]["value"] == 1.1
    assert "redacted" not in out  # amount was already empty: nothing withheld
    assert data["customers"][0]["arr"] == 10.0


@pytest.mark.parametrize(
    "phone",
    ["+44 20 7946 0958", "(555) 123-4567", "555-123-4567", "555.123.4567", "+1-202-555-0143",
     "+49 30 901820", "0049 89 1234567", "07911 123456", "+33 1 23 45 67 89", "+91 98765 43210",
     "+1 (415) 555-0100 ext. 42", "06.12.34.56.78", "(415) 555-0132", "+33 6.12.34.56.78"],
)
def test_redact_pii_masks_phone_formats(phone: str) -> None:
    out = redact_pii(f"call me on {phone} tomorrow")
    assert PHONE_MASK in out and not any(ch.isdigit() for ch in out), out


@pytest.mark.parametrize(
    "text",
    ["we closed $1,200,000 on 2024-05-01 10:30", "350 employees and 12 seats", "version 2.3.1",
     "ticket 12345678 in Q3 2024", "budget 120 000 EUR", "dates 01/05/2024 and 2024/05/01", "on 10.30.2024 at 10:30"],
)
def test_redact_pii_leaves_numbers_that_are_not_phones(text: str) -> None:
    assert redact_pii(text) == text


def test_redact_pii_masks_emails_and_known_names() -> None:
    text = "Mail jane.doe+sso@mail.example.co.uk; Jane Doe said DOE and jane agree. Janet stays."
    out = redact_pii(text, names=["Jane Doe", "", "  "])
    assert EMAIL_MASK in out and "example" not in out
    assert out.count(NAME_MASK) == 3 and "Janet stays" in out
    assert redact_pii("") == ""


def test_redact_arguments_for_the_audit_log() -> None:
    args = {
        "account": "Northwind",
        "token": "icp_abcdefghijklmnopqrstuvwxyz012345",
        "query": "what did bob@example.com say " + "word " * 100,
        "note": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "blob": "A" * 40,
        "ctrl": "line\nbreak\x1b[31m",
        "limit": 20,
        "flags": list(range(80)),
        "nested": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}},
    }
    out = redact_arguments(args)
    assert out["account"] == "Northwind" and out["limit"] == 20
    assert out["token"].startswith("[secret]")
    assert "bob@example.com" not in out["query"] and "…[+" in out["query"] and len(out["query"]) < 230
    assert "eyJ" not in out["note"] and "[secret]" in out["note"]
    assert out["blob"].startswith("[secret]")
    assert "\n" not in out["ctrl"] and "\x1b" not in out["ctrl"]
    assert len(out["flags"]) == 51 and out["flags"][-1] == "[30 more items]"
    assert "nested too deep" in str(out["nested"])
    assert redact_arguments(None) is None
    assert redact_arguments(Components(arr=1.0)) == {"arr": 1.0, "lifetime_revenue": None, "nrr": None}


def test_masking_with_only_the_names_present_equals_masking_with_all_names():
    """redact_pii_fields compiles only the names that occur in the answer's texts: the same masks as all names."""
    from icp_mcp.server.redact import _mask_text, _name_patterns, redact_pii_fields

    names = ["Jane Doe", "Li Wei", "Email Person", "Ann-Marie O'Neil", "Zoë Ångström", "Bob", "  ", ""]
    texts = ["jane said DOE will call", "li wei and Wei met", "write to a@b.co (email person)",
             "ann-marie o'neil agreed", "Zoë Ångström asked", "no one here", "ſome text with Bob"]
    for text in texts:
        expected = _mask_text(text, _name_patterns(names))
        assert redact_pii_fields({"text": text}, names) == {"text": expected}, text
