"""A material cases have recorded cannot be deleted: the designer is told why, in Chinese."""

from __future__ import annotations

from sqlalchemy import select

from app.models.items import Item, ItemMaterial

from ..conftest import CSRF, DEMO_PASSWORD, api_for, signed_in


def _delete(client, item: Item, material: ItemMaterial):
    page = f"/items/{item.id}"
    csrf = CSRF.search(client.get(page).get_data(as_text=True)).group(1)
    response = client.post(f"{page}/materials/{material.id}/delete", data={"csrf_token": csrf})
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_deleting_a_material_a_case_recorded_says_why_it_stays(app, shipped, session):
    item = session.scalars(select(Item).where(Item.code == "SCJ-GTGSH-BGDJ")).one()
    used = item.materials[0]
    received = api_for(app, "center_clerk").post(
        "/api/v1/cases",
        {
            "item_code": item.code,
            "action": "receive",
            "applicant": {
                "type": "person",
                "name": "周建华",
                "id_number": "11010519491231002X",
                "phone": "13900000000",
            },
            "place": "490102000000",
            "materials": [used.name],
        },
    )
    assert received.status_code == 201, received.get_json()

    page = _delete(signed_in(app, "bigdata_designer", DEMO_PASSWORD), item, used)
    assert f"材料“{used.name}”已被 1 个办件登记，不能删除" in page
    assert "同时修改" not in page
    session.expire_all()
    assert used.id in [m.id for m in session.get(Item, item.id).materials]


def test_a_material_no_case_recorded_is_deleted(app, shipped, session):
    item = session.scalars(select(Item).where(Item.code == "SCJ-GTGSH-BGDJ")).one()
    spare = ItemMaterial(item_id=item.id, position=99, name="备用材料", form="copy")
    session.add(spare)
    session.commit()
    page = _delete(signed_in(app, "bigdata_designer", DEMO_PASSWORD), item, spare)
    assert "已删除材料" in page
    session.expire_all()
    assert "备用材料" not in [m.name for m in session.get(Item, item.id).materials]
