import pytest

from workflows.expressions import (
    is_iso_timer_literal,
    juel_to_python,
    normalize_condition,
    normalize_timer,
)


@pytest.mark.parametrize(
    "text",
    [
        "PT5M",
        "P2D",
        "P1Y2M3DT4H5M6S",
        "PT0.5S",
        "2030-01-01T08:00:00Z",
        "2030-01-01",
        "R3/PT10M",
        "R/2030-01-01T00:00:00Z/P1D",
        "2026-W47-1",
    ],
)
def test_standard_timer_literals_are_quoted_for_the_engine(text):
    assert is_iso_timer_literal(text)
    assert normalize_timer(f"  {text}\n") == repr(text)


@pytest.mark.parametrize(
    "text", ['"PT5M"', "'PT1S'", "deadline", "timedelta(days=1)", "P", "PT", "PTM", "2030-13-45"]
)
def test_python_timer_expressions_are_left_alone(text):
    assert normalize_timer(text) == text


def test_juel_conditions_become_python():
    assert juel_to_python("${approved}") == "approved"
    assert juel_to_python("${!approved}") == "not approved"
    assert (
        juel_to_python("${amount > 1000 && kind == 'food'}") == "amount > 1000 and kind == 'food'"
    )
    assert juel_to_python("${a || b}") == "a or b"
    assert juel_to_python("${x != null}") == "x != None"
    assert juel_to_python("${flag eq true}") == "flag == True"
    assert juel_to_python("${name == 'a && b'}") == "name == 'a && b'"
    assert normalize_condition("decision == 'return'") == "decision == 'return'"
    assert normalize_timer("${duration}") == "duration"
