"""The rule vocabulary is declared once: the schemas and the compiler read the same words."""

from __future__ import annotations

from typing import get_args

import pytest

from switchboard.api.schemas.compat import RuleBody
from switchboard.api.schemas.rules import RuleIn, WindowIn
from switchboard.callflow import rules
from switchboard.callflow.rules import RuleError, check_rule


def test_every_condition_word_compiles_to_dial_outcomes() -> None:
    assert tuple(rules.CONDITIONS) == get_args(rules.Condition)


@pytest.mark.parametrize("schema", [RuleIn, RuleBody])
def test_the_api_schemas_carry_the_vocabularys_words_and_bounds(schema: type) -> None:
    props = schema.model_json_schema(by_alias=False)["properties"]

    def branch(name: str) -> dict[str, object]:
        spec = props[name]
        return next((b for b in spec.get("anyOf", [spec]) if b.get("type") != "null"), spec)

    assert tuple(branch("strategy")["enum"]) == rules.STRATEGIES
    assert tuple(branch("condition")["enum"]) == tuple(rules.CONDITIONS)
    ring = branch("ring_timeout")
    assert (ring["minimum"], ring["maximum"]) == (rules.RING_TIMEOUT_MIN, rules.RING_TIMEOUT_MAX)
    assert branch("targets")["maxItems"] == rules.MAX_TARGETS
    window = WindowIn.model_json_schema()["properties"]
    assert tuple(window["days"]["items"]["enum"]) == rules.DAYS
    assert window["start"]["pattern"] == rules.HHMM


def test_check_rule_fills_defaults_and_takes_the_default_ring_timeout_given() -> None:
    checked = check_rule({"targets": ["+15551234567"]}, endpoints=(), default_ring_timeout=33)
    assert checked == {
        "name": "", "priority": 0, "enabled": True, "strategy": "sequential",
        "targets": ["+15551234567"], "ring_timeout": 33, "condition": "always",
        "schedule": None,
    }


def test_check_rule_names_the_field_and_knows_only_the_endpoints_it_is_given() -> None:
    with pytest.raises(RuleError) as caught:
        check_rule({"targets": ["endpoint:desk-1"]}, endpoints=())
    assert caught.value.field == "targets"
    assert check_rule({"targets": ["endpoint:desk-1"]}, endpoints={"desk-1"})["targets"] == [
        "endpoint:desk-1"
    ]
    with pytest.raises(RuleError) as caught:
        check_rule({"targets": ["+15551234567"], "colour": "red"}, endpoints=())
    assert caught.value.field == "colour"
