"""A refusal is shown in one place: flashed on the page a button returns to, or an error page."""

import pytest
from flask import Blueprint

from app.errors import Conflict, DomainError, refusals_return_to
from app.extensions import csrf
from workflows.errors import WorkItemConflict


def refuse(error, return_to=None):
    if return_to:
        refusals_return_to(return_to)
    raise error


@pytest.fixture
def probe(app):
    """A client of the application with a few views that only refuse."""
    pages = Blueprint("probe", __name__)
    pages.add_url_rule(
        "/probe/refused", "refused", lambda: refuse(DomainError("材料不全。")), methods=["POST"]
    )
    pages.add_url_rule(
        "/probe/conflict", "conflict", lambda: refuse(Conflict("已被他人办理。")), methods=["POST"]
    )
    pages.add_url_rule(
        "/probe/button",
        "button",
        lambda: refuse(Conflict("已被他人办理。"), "/probe/page"),
        methods=["POST"],
    )
    pages.add_url_rule(
        "/probe/runtime",
        "runtime",
        lambda: refuse(WorkItemConflict("该待办已办结。"), "/probe/page"),
        methods=["POST"],
    )
    csrf.exempt(pages)
    app.register_blueprint(pages)
    return app.test_client()


def flashed(client) -> list:
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def test_a_refused_form_goes_back_to_the_page_it_came_from(probe):
    response = probe.post("/probe/refused", headers={"Referer": "http://localhost/cases/1"})
    assert (response.status_code, response.headers["Location"]) == (302, "http://localhost/cases/1")
    assert flashed(probe) == [("danger", "材料不全。")]


def test_without_a_page_to_go_back_to_the_refusal_is_an_error_page(probe):
    response = probe.post("/probe/refused")
    assert response.status_code == 422 and "材料不全。" in response.get_data(as_text=True)
    elsewhere = probe.post("/probe/refused", headers={"Referer": "http://evil.example/"})
    assert elsewhere.status_code == 422
    conflict = probe.post("/probe/conflict", headers={"Referer": "http://localhost/cases/1"})
    assert conflict.status_code == 409 and "已被他人办理。" in conflict.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/probe/button", "/probe/runtime"])
def test_a_button_names_its_page_and_every_refusal_is_flashed_there(probe, url):
    response = probe.post(url, headers={"Referer": "http://localhost/elsewhere"})
    assert (response.status_code, response.headers["Location"]) == (302, "/probe/page")
    assert len(flashed(probe)) == 1 and flashed(probe)[0][0] == "danger"
