"""Template filters that put the platform's records into the users' words."""

from app.filters import step_names


def test_open_steps_read_once_each_with_how_many_run_at_once():
    assert step_names(["受理"]) == "受理"
    assert step_names(["会签", "会签", "会签"]) == "会签（3 项并行）"
    assert step_names(["消防审查", "环保审查", "消防审查", None]) == (
        "消防审查（2 项并行）、环保审查、未命名步骤"
    )
    assert step_names([]) == ""
