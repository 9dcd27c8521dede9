"""A process designer keeps the catalog on its pages; windows see what is published."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.models.items import Item

from ..conftest import CSRF, DEMO_PASSWORD, signed_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def designer(app):
    return signed_in(app, "bigdata_designer", DEMO_PASSWORD)


def token(client, url: str) -> str:
    return CSRF.search(client.get(url).get_data(as_text=True)).group(1)


def item_form(**changes) -> dict:
    return {
        "code": "SCJ-SPJY-XK",
        "name": "食品经营许可",
        "kind": "promise",
        "lead_department_id": "0",
        "process_id": "",
        "statutory_days": "20",
        "committed_days": "10",
        "fee_amount": "",
        "fee_note": "不收费",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "conditions": "有与经营的食品品种、数量相适应的经营场所。",
        "online": "y",
        **changes,
    }


def create(client, **changes):
    page = client.get("/items/new").get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": CSRF.search(page).group(1), "nonce": nonce, **item_form(**changes)}
    return client.post("/items/new", data=data)


def test_a_new_item_form_posted_twice_makes_one_item(app, shipped, session):
    client = designer(app)
    page = client.get("/items/new").get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": CSRF.search(page).group(1), "nonce": nonce, **item_form()}
    assert client.post("/items/new", data=data).status_code == 302
    again = client.post("/items/new", data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith("/items/")
    assert "已经提交过" in client.get("/items/").get_data(as_text=True)
    assert len(session.scalars(select(Item).where(Item.code == "SCJ-SPJY-XK")).all()) == 1


def post(client, url: str, page: str, data=None, **kw):
    return client.post(url, data={"csrf_token": token(client, page), **(data or {})}, **kw)


def test_limits_are_checked_and_a_promise_close_to_the_law_is_warned(app, shipped, session):
    client = designer(app)
    over = create(client, committed_days="25")
    assert over.status_code == 400
    assert "承诺时限不能超过法定时限" in over.get_data(as_text=True)
    assert session.scalars(select(Item).where(Item.code == "SCJ-SPJY-XK")).first() is None

    saved = create(client, committed_days="18")
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "承诺时限为法定时限的 90%" in page
    item = session.scalars(select(Item).where(Item.code == "SCJ-SPJY-XK")).one()
    assert (item.status, item.statutory_days, item.committed_days) == ("draft", 20, 18)

    again = create(client, name="另一个事项")
    assert again.status_code == 400
    assert "已被“食品经营许可”使用" in again.get_data(as_text=True)
    missing = create(client, code="", name="")
    assert missing.status_code == 400
    assert "请填写事项编码" in missing.get_data(as_text=True)


def test_materials_with_blank_forms_then_publish_and_retire(app, shipped, session):
    client = designer(app)
    location = create(client).headers["Location"]
    item_id = int(re.search(r"/items/(\d+)$", location).group(1))
    detail = f"/items/{item_id}"

    # a file that is not what its name says is refused, and nothing is added
    fake = post(
        client,
        f"{detail}/materials",
        detail,
        {
            "name": "食品经营许可申请书",
            "form": "original",
            "copies": "1",
            "required": "y",
            "blank_form": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "申请书.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400
    assert "内容与扩展名 .pdf 不符" in fake.get_data(as_text=True)
    session.expire_all()
    assert session.get(Item, item_id).materials == []

    added = post(
        client,
        f"{detail}/materials",
        detail,
        {
            "name": "食品经营许可申请书",
            "form": "original",
            "copies": "1",
            "required": "y",
            "blank_form": (io.BytesIO(PDF), "申请书.pdf"),
            "example": (io.BytesIO(PNG), "示例.png"),
        },
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    post(
        client,
        f"{detail}/materials",
        detail,
        {"name": "营业执照", "form": "copy", "copies": "1", "required": "y"},
        content_type="multipart/form-data",
    )
    session.expire_all()
    item = session.get(Item, item_id)
    assert [m.name for m in item.materials] == ["食品经营许可申请书", "营业执照"]
    first = item.materials[0]
    blank = client.get(f"{detail}/materials/{first.id}/blank")
    assert blank.status_code == 200 and blank.data == PDF
    assert client.get(f"{detail}/materials/{first.id}/example").data == PNG
    assert client.get(f"{detail}/materials/{item.materials[1].id}/blank").status_code == 404

    # windows may read the catalog but not change it
    window = signed_in(app, "center_clerk", DEMO_PASSWORD)
    assert window.get(detail).status_code == 200
    assert window.get(f"{detail}/materials/{first.id}/blank").data == PDF
    assert window.get(f"{detail}/edit").status_code == 403
    assert post(window, f"{detail}/publish", detail).status_code == 403

    # no process yet: publishing is refused with the reason
    refused = client.get(post(client, f"{detail}/publish", detail).headers["Location"])
    assert "请先为事项选择办理流程" in refused.get_data(as_text=True)
    assert "食品经营许可" not in window.get("/cases/intake").get_data(as_text=True)

    edit = client.get(f"{detail}/edit").get_data(as_text=True)
    assert "food_workshop" in edit  # deployed processes are offered
    saved = client.post(
        f"{detail}/edit",
        data={"csrf_token": CSRF.search(edit).group(1), **item_form(process_id="food_workshop")},
    )
    assert saved.status_code == 302
    published = client.get(post(client, f"{detail}/publish", detail).headers["Location"])
    assert "事项已发布" in published.get_data(as_text=True)
    assert "食品经营许可（SCJ-SPJY-XK）" in window.get("/cases/intake").get_data(as_text=True)

    retired = client.get(post(client, f"{detail}/retire", detail).headers["Location"])
    assert "事项已停用" in retired.get_data(as_text=True)
    assert "食品经营许可（SCJ-SPJY-XK）" not in window.get("/cases/intake").get_data(as_text=True)
    assert window.get(f"/cases/intake?item={item_id}").status_code == 200
    assert 'id="intake-form"' not in window.get(f"/cases/intake?item={item_id}").get_data(
        as_text=True
    )


def test_the_catalog_is_searched_by_code_name_kind_and_status(app, shipped):
    client = signed_in(app, "center_clerk", DEMO_PASSWORD)

    def found(query: str) -> list[str]:
        page = client.get(f"/items/?{query}").get_data(as_text=True)
        return re.findall(r"<code>([A-Z]+-[A-Z]+-[A-Z]+)</code>", page)

    assert found("q=食品") == ["SCJ-SPXZF-DJ"]
    assert found("q=zrzy") == ["ZRZY-KCPJG-HF"]
    assert found("kind=joint") == ["SCJ-GZJJCS-LHSC"]
    assert len(found("status=published")) == 5
    assert found("status=retired") == []


def test_an_item_may_set_its_own_warning_rules(app, shipped, session):
    client = designer(app)
    bad = create(client, warn_yellow="sometimes")
    assert bad.status_code == 400
    assert "无法识别的预警规则" in bad.get_data(as_text=True)
    assert create(client, warn_yellow="left:3", warn_red="").status_code == 302
    item = session.scalars(select(Item).where(Item.code == "SCJ-SPJY-XK")).one()
    assert (item.warn_yellow, item.warn_red) == ("left:3", None)
    # written in Chinese, stored in one form and shown back in Chinese
    edit = client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    assert 'value="剩3个工作日"' in edit


@pytest.mark.moments("fri-1731", "2027-0104")
def test_an_item_sets_limits_for_its_steps(app, shipped, session):
    from workflows import models as wm

    from ..cases.test_window_pages import FOOD, case_of, intake, received, window

    client = designer(app)
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    edit = client.get(f"/items/{food.id}/edit").get_data(as_text=True)
    values = {
        **item_form(
            code=food.code, name=food.name, process_id="food_workshop", statutory_days="15"
        ),
        "committed_days": "7",
        "csrf_token": CSRF.search(edit).group(1),
    }
    bad = client.post(f"/items/{food.id}/edit", data={**values, "step_limits": "承办 三天"})
    assert bad.status_code == 400 and "环节时限第 1 行" in bad.get_data(as_text=True)
    saved = client.post(
        f"/items/{food.id}/edit", data={**values, "step_limits": "承办=2\nTask_Review=1"}
    )
    assert saved.status_code == 302
    session.expire_all()
    assert session.get(Item, food.id).step_limits == {"承办": 2, "Task_Review": 1}
    assert "承办=2" in client.get(f"/items/{food.id}/edit").get_data(as_text=True)

    number = received(intake(window(app), session, "SCJ-SPXZF-DJ", "accept", extra=FOOD))
    handle = session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id == case_of(session, number).instance_id,
            wm.WorkItem.bpmn_id == "Task_Handle",
        )
    ).one()
    from app.clock import center_clock

    with app.app_context():  # 承办: two working days from its arrival
        clock = center_clock()
        assert handle.due_at == clock.step_due(handle.created_at, days=2)
        arrived = clock.calendar.next_workday(clock.day_of(handle.created_at))
        assert handle.due_at == clock.end_of_day(clock.add_workdays(arrived, 2))
