"""Who may see a case, written down once and walked over every object route.

The rule (docs/SECURITY.md has the same table): a user's *relation* to a case is
taken from the regions of their posts against the case's place.

| role                         | routed to them | own place | own county | other county |
|------------------------------|----------------|-----------|------------|--------------|
| window clerk                 | yes            | yes       | no         | no           |
| inspector                    | –              | yes       | no         | no           |
| designer, administrator post | –              | yes       | no         | no           |
| handler, reviewer, leaders   | yes            | no        | no         | no           |
| platform administrator       | yes            | yes       | yes        | yes          |
| anonymous                    | log in first (pages) or 401 (API)                      |

"Own place": the place lies in the region (with its subtree) of one of their posts of
that role. A page also needs its capability (the designer's pages ``instances.manage``,
the supervision pages ``supervise``, the task pages ``work``). Whoever may not see a case
may not change it either: every POST on it is refused and nothing in the database moves.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.files import store
from app.models.auth import User
from app.models.cases import Case
from app.models.items import Item, ItemMaterial
from app.policy import capabilities
from workflows import models as m

from .conftest import CSRF, api_for, make_user, signed_in
from .diagrams import laned, user

DIAGRAM = laned(
    "visible_item",
    ("县 市场监督管理局/审批股 审核人", user("review", "审核")),
    ("县 市场监督管理局 分管领导", user("sign", "签批")),
)
MANAGERS = ("inspector", "designer", "admin")
WORKERS = ("handler", "reviewer", "deputy_leader", "chief_leader")
RULE = {
    # role: (routed, own place, own county, other county)
    "window_clerk": (True, True, False, False),
    "inspector": (False, True, False, False),
    "designer": (False, True, False, False),
    "admin": (False, True, False, False),
    "handler": (True, False, False, False),
    "reviewer": (True, False, False, False),
    "deputy_leader": (True, False, False, False),
    "chief_leader": (True, False, False, False),
    "platform": (True, True, True, True),
}
RELATIONS = ("routed", "own place", "own county", "other county")
USERS = [
    "v11_window_clerk",  # the receiving village window
    "t1_window_clerk",  # its township's window
    "center_window_clerk",  # the county center's window
    "v12_window_clerk",  # the next village: own county, not its place
    "t2_window_clerk",  # another township
    "center_inspector",
    "city_jw_inspector",  # the city's inspector, over both counties
    "bigdata_designer",
    "bigdata_admin",
    "scj_spg_reviewer",  # completed 审核
    "scj_spg_handler",
    "scj_deputy_leader",  # 签批 is routed to them
    "fire_handler",
    "t1_handler",
    "bs_center_window_clerk",
    "bs_t1_window_clerk",
    "bs_center_inspector",
    "bs_bigdata_designer",
    "bs_bigdata_admin",
    "bs_scj_reviewer",
    "bs_scj_chief_leader",
    "admin",  # the platform administrator
    "nobody",  # an account without posts
]


@pytest.fixture
def world(app, api, county, neighbour, session):
    """A case at 东关村 whose 审核 is done (by scj_spg_reviewer) and 签批 open."""
    assert api.deploy(("visible.bpmn", DIAGRAM)).status_code == 201
    item = Item(
        code="VIS-001",
        name="可见性测试事项",
        kind="promise",
        lead_department_id=county.departments["scj"].id,
        statutory_days=20,
        committed_days=5,
        process_id="visible_item",
        status="published",
    )
    item.materials = [ItemMaterial(position=0, name="申请书", form="original", required=True)]
    session.add(item)
    session.commit()
    body = {
        "item_code": "VIS-001",
        "applicant": {
            "type": "person",
            "name": "周建华",
            "id_number": "11010519491231002X",
            "phone": "13900000000",
        },
        "place": county.code("v11"),
        "materials": ["申请书"],
    }
    answer = api_for(app, "v11_window_clerk").post("/api/v1/cases", body)
    assert answer.status_code == 201, answer.get_json()
    case = session.scalars(select(Case).where(Case.number == answer.get_json()["number"])).one()
    with app.app_context():
        blob = store.store(db.session, b"%PDF-1.4 application", "申请书.pdf")
        row = db.session.get(Case, case.id)
        row.materials[0].blob_sha256, row.materials[0].filename = blob.sha256, "申请书.pdf"
        db.session.commit()
    reviewer = api_for(app, "scj_spg_reviewer")
    review = reviewer.open_items(case.instance_id)["review"]
    assert reviewer.post(f"/api/v1/work-items/{review['id']}/claim", {}).status_code == 200
    review = reviewer.open_items(case.instance_id)["review"]
    assert reviewer.complete(review, {"opinion": "同意"}).status_code == 200
    make_user(app, "nobody", password="pw-nobody")
    session.expire_all()
    case = session.get(Case, case.id)
    items = {
        i.bpmn_id: i
        for i in session.scalars(
            select(m.WorkItem).where(m.WorkItem.instance_id == case.instance_id)
        )
    }
    return {
        "case": case,
        "number": case.number,
        "instance": case.instance_id,
        "review": items["review"].id,
        "sign": items["sign"].id,
        "document": case.documents[0].id,
        "material": case.materials[0].id,
    }


def _password(username: str) -> str:
    return "password-admin" if username == "admin" else f"pw-{username}"


def relations(user: User, case: Case) -> list[tuple[str, str]]:
    """(role, relation) of each of a user's posts to the case's place."""
    if user.is_admin:
        return [("platform", "other county")]
    found = []
    for post in user.posts:
        region = post.department.region.path
        if case.place.path.startswith(region):
            found.append((post.role, "own place"))
        elif region.startswith(case.county.path):
            found.append((post.role, "own county"))
        else:
            found.append((post.role, "other county"))
    return found


def may_see(session, username: str, case: Case, routed: set[str]) -> bool:
    """The written rule, for one user and the case."""
    found = session.scalars(select(User).where(User.username == username)).one()
    return any(
        (RULE[role][0] and username in routed) or RULE[role][RELATIONS.index(where)]
        for role, where in relations(found, case)
    )


def object_routes(w: dict) -> list[tuple[str, str]]:
    """(capability, url) of every page and API read of one case."""
    n, i = w["number"], w["instance"]
    return [
        ("staff", f"/cases/{n}"),
        ("staff", f"/cases/{n}/diagram"),
        ("staff", f"/cases/{n}/diagram.bpmn"),
        ("staff", f"/cases/{n}/documents/{w['document']}"),
        ("staff", f"/cases/{n}/materials/{w['material']}"),
        ("work", f"/desk/items/{w['review']}"),
        ("staff", f"/desk/items/{w['review']}/files/opinion"),  # none: 404 to those who see
        ("supervise", f"/supervision/cases/{n}/audit"),
        ("instances.manage", f"/designer/instances/{i}"),
        ("api", f"/api/v1/cases/{n}"),
        ("api", f"/api/v1/instances/{i}"),
        ("api", f"/api/v1/instances/{i}/signers?step=sign"),
        ("api", f"/api/v1/work-items/{w['review']}"),
    ]


def test_every_object_route_follows_the_written_rule(app, world, session):
    case = world["case"]
    routed = {"scj_spg_reviewer", "scj_deputy_leader"}
    wrong = []
    for username in USERS:
        expected = may_see(session, username, case, routed)
        found = session.scalars(select(User).where(User.username == username)).one()
        caps = capabilities(found)
        page, api = signed_in(app, username, _password(username)), api_for(app, username)
        for capability, url in object_routes(world):
            if capability == "api":
                status = api.get(url).status_code
                allowed = expected
            else:
                status = page.get(url).status_code
                allowed = expected and (capability == "staff" or capability in caps)
            if status >= 500 or (status == 403) == allowed or status in (301, 302):
                wrong.append((username, url, status, allowed))
    assert wrong == []


def test_anonymous_visitors_see_no_object(app, world):
    client = app.test_client()
    for _capability, url in object_routes(world):
        status = client.get(url).status_code
        assert status == (401 if url.startswith("/api/") else 302), url


def test_lists_show_the_case_only_to_those_who_see_it(app, world, session):
    case, number = world["case"], world["number"]
    routed = {"scj_spg_reviewer", "scj_deputy_leader"}
    wrong = []
    for username in USERS:
        expected = may_see(session, username, case, routed)
        api = api_for(app, username)
        items = api.get(f"/api/v1/work-items?instance={case.instance_id}&status=completed")
        listed = any(i["id"] == world["review"] for i in items.get_json()["work_items"])
        found = session.scalars(select(User).where(User.username == username)).one()
        if listed and not expected:
            wrong.append((username, "work-items"))
        page = signed_in(app, username, _password(username))
        text = page.get(f"/cases/?q={number}").get_data(as_text=True)
        if f'href="/cases/{number}"' in text and not expected:
            wrong.append((username, "cases"))
        if "instances.manage" in capabilities(found):
            text = page.get("/designer/instances").get_data(as_text=True)
            shown = f"/designer/instances/{case.instance_id}" in text
            if shown != expected:
                wrong.append((username, "designer instances", shown))
    assert wrong == []


def _state(app) -> str:
    """Every table's row count and the case's moving parts."""
    with app.app_context():
        counts = {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables
            if t.name not in ("api_token", "login_failure", "security_event")
        }
        cases = db.session.execute(select(Case.number, Case.status)).all()
        items = db.session.execute(
            select(m.WorkItem.id, m.WorkItem.status, m.WorkItem.assignee, m.WorkItem.version)
        ).all()
        instances = db.session.execute(
            select(m.ProcessInstance.id, m.ProcessInstance.status, m.ProcessInstance.revision)
        ).all()
    return json.dumps([counts, [list(r) for r in cases + items + instances]], default=str)


def outsider_writes(w: dict) -> list[tuple[str, dict]]:
    n, i, sign = w["number"], w["instance"], w["sign"]
    return [
        (f"/cases/{n}/withdraw", {"reason": "撤"}),
        (f"/cases/{n}/deliver", {"receiver": "某"}),
        (f"/cases/{n}/payments/1/confirm", {"receipt_no": "QS-0001", "amount": "1"}),
        (f"/cases/{n}/payments/1/refund", {"amount": "1", "reason": "x", "voucher_no": "TF-01"}),
        (f"/cases/{n}/materials/{w['material']}/upload", {}),
        (f"/cases/{n}/materials/{w['material']}/reuse", {"entry": "1"}),
        (f"/desk/items/{sign}/claim", {}),
        (f"/desk/items/{sign}", {"opinion": "同意", "version": "1"}),
        (f"/desk/items/{sign}/copy", {"recipients": "scj_handler"}),
        (f"/desk/items/{sign}/transfer", {"to": "scj_handler", "reason": "x"}),
        (f"/desk/items/{w['review']}/take-back", {"reason": "x"}),
        (f"/desk/cases/{n}/signers", {"step": "sign", "signer": "x", "action": "add"}),
        (f"/supervision/cases/{n}/urge", {"message": "快"}),
        (f"/supervision/cases/{n}/suspend", {"reason": "停"}),
        (f"/designer/instances/{i}/terminate", {"reason": "终止"}),
        (f"/designer/instances/{i}/retry", {}),
    ]


def api_writes(w: dict) -> list[tuple[str, dict]]:
    i, sign = w["instance"], w["sign"]
    return [
        (
            f"/api/v1/cases/{w['number']}/payments",
            {"provider": "p", "receipt_no": "QS-01", "amount": "1"},
        ),
        (f"/api/v1/instances/{i}/terminate", {"reason": "终止"}),
        (f"/api/v1/instances/{i}/retry", {}),
        (f"/api/v1/instances/{i}/signers", {"step": "sign", "signer": "x"}),
        (f"/api/v1/work-items/{sign}/claim", {}),
        (f"/api/v1/work-items/{sign}/complete", {"data": {}, "version": 1}),
        (f"/api/v1/work-items/{sign}/transfer", {"to": "scj_handler", "reason": "x"}),
        (f"/api/v1/work-items/{w['review']}/take-back", {"reason": "x"}),
    ]


OUTSIDERS = [
    "v12_window_clerk",
    "t2_window_clerk",
    "scj_spg_handler",
    "fire_handler",
    "bs_center_window_clerk",
    "bs_center_inspector",
    "bs_bigdata_designer",
    "bs_bigdata_admin",
    "bs_scj_reviewer",
    "nobody",
]


def test_outsiders_writes_are_refused_and_change_nothing(app, world, session):
    clients = {u: (signed_in(app, u, _password(u)), api_for(app, u)) for u in OUTSIDERS}
    before = _state(app)
    wrong = []
    for username, (page, api) in clients.items():
        csrf = CSRF.search(page.get("/account/password").get_data(as_text=True)).group(1)
        for url, data in outsider_writes(world):
            status = page.post(url, data={**data, "csrf_token": csrf}).status_code
            if status not in (403, 404):
                wrong.append((username, url, status))
        for url, body in api_writes(world):
            status = api.post(url, body).status_code
            if status not in (403, 404):
                wrong.append((username, url, status))
    assert wrong == []
    assert _state(app) == before


def test_no_web_form_is_accepted_without_its_csrf_token(app, world):
    """Every POST route of the pages, signed in as the platform administrator (who may
    do everything): without a CSRF token, refused (400) and nothing changed."""
    page = signed_in(app, "admin", "password-admin")
    urls = {
        "number": world["number"],
        "item_id": world["sign"],
        "instance_id": world["instance"],
        "material_id": world["material"],
    }
    before = _state(app)
    wrong = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for name, value in urls.items():
            url = url.replace(f"<{name}>", str(value)).replace(f"<int:{name}>", str(value))
        url = _fill(url)
        status = page.post(url, data={"reason": "x"}).status_code
        if status != 400:
            wrong.append((rule.endpoint, url, status))
    assert wrong == []
    assert _state(app) == before


def _fill(url: str) -> str:
    import re

    url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", url)


@pytest.mark.parametrize(
    ("username", "data", "status"),
    [
        ("v11_window_clerk", {"place": "490102100201"}, 201),  # its own village
        ("v11_window_clerk", {"place": "490102100202"}, 403),  # the next village
        ("v11_window_clerk", {}, 403),  # no place: only for managers
        ("bigdata_admin", {"place": "490102100202"}, 201),  # manages the county
        ("bigdata_admin", {"place": "490103100000"}, 403),  # 白水镇, the other county
        ("bigdata_admin", {}, 201),
        ("bigdata_admin", {"place": "490102100201", "case_number": "X"}, 422),
        ("bs_bigdata_admin", {"place": "490102100201"}, 403),
        ("admin", {"place": "490103100000", "case_number": "X"}, 201),  # the platform's
    ],
)
def test_starting_a_process_directly_stays_within_ones_places(app, world, username, data, status):
    answer = api_for(app, username).start("visible_item", data)
    assert answer.status_code == status, answer.get_json()
