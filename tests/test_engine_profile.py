"""The ICP model validates hand-written definitions and names the field that is wrong."""

from __future__ import annotations

import json

import pytest

from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.sql.versions import export_definition, import_definition

HAND_WRITTEN = """
name: Mid-market SaaS
criteria:
  - attribute: industry
    values: [Software, Fintech]
    points: 30
  - attribute: employees
    range: {min: 200, max: 2000}
    points: 20
  - attribute: technology
    value: Snowflake
    points: 25
disqualifiers:
  - id: no-government
    attribute: industry
    value: Government
    sentence: Government deals take 18 months and rarely close.
"""


def test_hand_written_yaml_is_a_first_class_definition():
    d = import_definition(HAND_WRITTEN)
    assert [c.id for c in d.criteria] == ["c1", "c2", "c3"]
    assert all(c.source == "manual" for c in d.criteria)
    assert d.max_points() == 75 and d.fit_score(75) == 100.0
    assert d.criteria[1].matches(None, 500) and not d.criteria[1].matches(None, 2000)
    assert d.criteria[0].matches("software")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: x\ncriteria:\n  - attribute: industri\n    value: A\n    points: 1\n", "criteria.0.attribute"),
        ("name: x\ncriteria:\n  - attribute: employees\n    value: big\n    points: 1\n", "criteria.0"),
        ("name: x\ncriteria:\n  - attribute: industry\n    value: A\n", "criteria.0.points"),
        ("name: x\ncriteria:\n  - attribute: employees\n    range: {min: 5, max: 1}\n    points: 1\n",
         "criteria.0.range"),
        ("criteria: []\n", "name"),
        ("name: x\ncolour: red\n", "colour"),
        ("name: [unclosed\n", "definition"),
    ],
)
def test_import_errors_name_the_field(text, field):
    with pytest.raises(EngineError) as info:
        import_definition(text)
    assert info.value.field == field, info.value


def test_export_roundtrips_and_json_has_criteria_and_disqualifiers():
    d = import_definition(HAND_WRITTEN)
    assert import_definition(export_definition(d, "yaml")) == d
    data = json.loads(export_definition(d, "json"))
    assert {"attribute", "values", "points"} <= set(data["criteria"][0])
    assert data["criteria"][1]["range"] == {"min": 200.0, "max": 2000.0}
    assert data["disqualifiers"][0]["id"] == "no-government"
    assert ICPDefinition.model_validate(data) == d


def test_the_example_yaml_imports():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "examples" / "icp.example.yaml").read_text()
    d = import_definition(text)
    assert d.segments[0].points == 20 and {r.id for r in d.disqualifiers} == {"no-pre-seed", "no-government"}
