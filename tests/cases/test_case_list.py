"""The case list tells each user where their cases are when it has none to show."""

from __future__ import annotations

from .test_window_pages import window


def test_an_empty_case_list_points_staff_to_the_cases_they_worked(app, shipped):
    reviewer = window(app, "zjj_handler").get("/cases/").get_data(as_text=True)
    assert "我经办的办件" in reviewer and 'href="/desk/cases"' in reviewer
    clerk = window(app).get("/cases/").get_data(as_text=True)
    assert "本窗口还没有办件。" in clerk
    searched = window(app).get("/cases/?q=无此人").get_data(as_text=True)
    assert "没有符合条件的办件。" in searched
