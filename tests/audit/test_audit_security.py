"""The outside audit's findings: a recomputed chain, a cut tail, edited or deleted rows,
and changes that were never recorded (uploads, the organisation, the catalog)."""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select, text, update

from app.audit.anchors import read_anchors
from app.audit.chain import PLAIN_HASHED, _plain
from app.audit.report import check
from app.models.audit import AuditEntry
from app.models.cases import Case
from app.scheduler import audit_anchor_job
from workflows.models import WorkItem

from ..conftest import make_user
from ..org.conftest import csrf_token, login, staff, submit
from .test_audit_chain import a_case, actions


def plain_hash(prev: str, fields: dict) -> str:
    """What anyone with database access can compute: the old, unkeyed hash."""
    body = json.dumps(
        [prev, *(_plain(fields.get(n)) for n in PLAIN_HASHED)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def rehash_from(session, seq: int, alg: str | None = None) -> None:
    """An intruder without the key recomputes the chain from ``seq`` on."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    prev = entries[seq - 2].hash if seq > 1 else "0" * 64
    for entry in entries[seq - 1 :]:
        fields = {c.key: getattr(entry, c.key) for c in AuditEntry.__table__.c}
        values = {"prev_hash": prev, "hash": plain_hash(prev, fields)}
        if alg is not None:
            values["alg"] = alg
        session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(**values))
        prev = values["hash"]


def report_of(app, session):
    session.expire_all()
    return check(session, app.config["AUDIT_ANCHOR_PATH"])


def test_a_chain_recomputed_without_the_key_is_found(app, shipped, session):
    a_case(app, session)
    assert report_of(app, session).intact
    session.execute(text("UPDATE audit_entry SET message = '改过了' WHERE seq = 7"))
    rehash_from(session, 7)
    report = report_of(app, session)
    assert report.broken.seq == 7 and "已被修改" in report.broken.reason

    # nor does passing the rewritten entries off as old, unkeyed ones help
    rehash_from(session, 7, alg="sha256")
    report = report_of(app, session)
    assert report.broken.seq == 7 and "未加密钥" in report.broken.reason


def test_entries_of_an_old_database_keep_their_plain_hash_and_the_key_protects_the_rest(
    app, session
):
    prev = "0" * 64
    for seq in (1, 2):
        fields = {"seq": seq, "at": _plain_time(), "source": "case", "action": "old"}
        fields |= {"alg": "sha256", "prev_hash": prev, "hash": plain_hash(prev, fields)}
        session.execute(AuditEntry.__table__.insert(), [fields])
        prev = fields["hash"]
    staff(session, "zhaoliu", "赵六")
    session.commit()
    report = report_of(app, session)
    assert report.intact and (report.legacy, report.hmac_from) == (2, 3)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "自第 3 条起受 HMAC 密钥保护" in result.output


def _plain_time():
    from datetime import datetime

    return datetime(2026, 11, 1, 8, 0)


def test_a_cut_or_rewritten_tail_is_found_by_the_anchors(app, shipped, session, caplog):
    a_case(app, session)
    with caplog.at_level(logging.INFO, logger="yimen.audit.anchor"):
        anchored = audit_anchor_job(app)
    assert anchored == session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()))
    assert f"seq={anchored}" in caplog.text
    assert [a.seq for a in read_anchors(app.config["AUDIT_ANCHOR_PATH"])[0]] == [anchored]

    session.execute(text(f"DELETE FROM audit_entry WHERE seq > {anchored - 3}"))
    report = report_of(app, session)
    assert report.broken is None and "被截断" in " ".join(report.anchors)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and f"记录到第 {anchored} 条" in result.output

    # the tail written again (by someone holding the key) differs from the anchor
    staff(session, "a1"), staff(session, "a2"), staff(session, "a3"), staff(session, "a4")
    session.commit()
    report = report_of(app, session)
    assert report.broken is None and f"第 {anchored} 条记录的哈希与锚点" in " ".join(report.anchors)


def test_verify_anchors_an_intact_chain(app, shipped, session):
    a_case(app, session)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    (anchor,), _ = read_anchors(app.config["AUDIT_ANCHOR_PATH"])
    assert anchor.seq == report_of(app, session).count


def test_edited_and_deleted_rows_are_found(app, shipped, session):
    number = a_case(app, session)
    # the case's status moved on several times, its steps were completed: all recorded
    assert report_of(app, session).intact
    case = session.scalars(select(Case).where(Case.number == number)).one()
    step = session.scalars(
        select(WorkItem).where(WorkItem.instance_id == case.instance_id, WorkItem.data.is_not(None))
    ).first()
    session.expunge_all()
    edits = [
        f"UPDATE case_file SET applicant_name = '李四' WHERE id = {case.id}",
        f"UPDATE case_event SET message = '改' WHERE case_id = {case.id} AND kind = 'accepted'",
        f"UPDATE instance_event SET actor = 'nobody' WHERE instance_id = {case.instance_id}"
        " AND kind = 'started'",
        f"UPDATE work_item SET completed_by = 'nobody' WHERE id = {step.id}",
    ]
    for edit in edits:
        session.execute(text(edit))
    rows = " ".join(report_of(app, session).rows)
    assert f"case_file #{case.id} 与第" in rows
    assert rows.count("case_event #") == 1 and rows.count("instance_event #") == 1
    assert f"work_item #{step.id} 与第" in rows

    session.execute(text(f"DELETE FROM case_event WHERE case_id = {case.id}"))
    session.execute(text(f"DELETE FROM case_material WHERE case_id = {case.id}"))
    session.execute(text(f"DELETE FROM case_document WHERE case_id = {case.id}"))
    session.execute(text(f"DELETE FROM case_pause WHERE case_id = {case.id}"))
    session.execute(text(f"DELETE FROM case_file WHERE id = {case.id}"))
    rows = " ".join(report_of(app, session).rows)
    assert f"case_file #{case.id} 已被删除" in rows and "case_event #" in rows
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and f"case_file #{case.id} 已被删除" in result.output


def test_a_row_slipped_in_behind_the_application_is_found(app, shipped, session):
    number = a_case(app, session)
    case_id = session.scalar(select(Case.id).where(Case.number == number))
    session.execute(
        text(
            "INSERT INTO case_event (case_id, at, kind, actor, message)"
            f" VALUES ({case_id}, '2026-12-01 08:00:00', 'delivered', 'x', '补记')"
        )
    )
    assert "不在审计链中" in " ".join(report_of(app, session).rows)


def test_org_changes_are_recorded(app, client, session):
    make_user(app, "root", admin=True, password="root-password")
    assert login(client, "root", "root-password").status_code == 302
    wang = staff(session, "wangwu", "王五")
    session.commit()
    url = f"/org/users/{wang.id}"
    submit(client, url, {"display_name": "王五五", "phone": "13900000005"})
    submit(client, f"{url}/password", {"password": ""}, url)
    submit(client, f"{url}/deactivate", {}, url)
    staff(session, "zhang", "张三"), staff(session, "li", "李四")
    session.commit()
    fields = {"leave-holder": "zhang", "leave-backup": "li", "leave-reason": "病假"}
    submit(client, "/org/leave", fields, "/org/backups")

    log = audit_rows(session)
    user_rows = [r for r in log if r[2] == f"user_account #{wang.id}"]
    assert [r[1] for r in user_rows] == ["created", "updated", "updated", "updated"]
    assert "password_hash" in user_rows[2][4] and "active" in user_rows[3][4]
    assert all(r[3] == "root" for r in user_rows[1:])  # who did it
    assert ("org", "created") in [(r[0], r[1]) for r in log if r[2].startswith("ab_backup")]
    assert report_of(app, session).intact


def test_calendar_catalog_and_uploads_are_recorded(app, shipped, session):
    from app.files.store import store
    from app.items.services import retire
    from app.models.items import Item

    client = login_admin(app)
    html = client.get("/org/calendar?year=2027").get_data(as_text=True)
    lines = "2027-02-06 班"
    client.post("/org/calendar", data={"csrf_token": csrf_token(html), "lines": lines})
    client.post("/org/calendar/2027-02-06/delete", data={"csrf_token": csrf_token(html)})
    with app.app_context():
        from app.extensions import db

        item = db.session.scalars(select(Item).limit(1)).one()
        item_id = item.id
        retire(db.session, item)
        store(db.session, b"%PDF-1.4 test", "a.pdf")
        db.session.commit()
    log = [(r[0], r[1], r[2]) for r in audit_rows(session)]
    assert ("calendar", "created", "calendar_day #2027-02-06") in log
    assert ("calendar", "deleted", "calendar_day #2027-02-06") in log
    assert ("items", "updated", f"item #{item_id}") in log
    assert ("files", "created") in [(r[0], r[1]) for r in log if r[2].startswith("blob #")]
    assert report_of(app, session).intact


def login_admin(app):
    make_user(app, "root", admin=True, password="root-password")
    client = app.test_client()
    assert login(client, "root", "root-password").status_code == 302
    return client


def audit_rows(session) -> list[tuple]:
    session.expire_all()
    return [
        (e.source, e.action, e.subject or "", e.actor, e.message or "")
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    ]


def test_uploaded_material_files_are_recorded(app, shipped, session):
    a_case(app, session)
    log = actions(session)
    assert ("files", "created") in log  # the case's materials with their files


def test_post_membership_is_recorded(app, session):
    from app.org import services as org

    from ..org.test_pages import small_county

    _county, _township, _scj, _spg, post, li = small_county(session)
    org.unassign_user(session, li, post)
    session.commit()
    log = [(r[1], r[2], r[4]) for r in audit_rows(session)]
    assert ("holders_added", f"post #{post.id}", f"user_account #{li.id}") in log
    assert ("holders_removed", f"post #{post.id}", f"user_account #{li.id}") in log
    assert ("created", f"department #{_spg.id}", "") in log


def test_a_bulk_org_import_is_recorded_and_its_updates_checked(app, session, tmp_path):
    from ..org.test_import import COUNTY_CSV, run, write

    assert run(app, "import", str(write(tmp_path, COUNTY_CSV))).exit_code == 0
    renamed = COUNTY_CSV.replace("王受理,,", "王受理,13900000009,")
    assert run(app, "import", str(write(tmp_path, renamed, bom=False))).exit_code == 0
    log = audit_rows(session)
    assert ("org", "bulk_insert", "user_post") in [r[:3] for r in log]
    assert ("org", "bulk_insert", "user_account") in [r[:3] for r in log]
    wang = session.scalar(text("SELECT id FROM user_account WHERE username = 'wang_clerk'"))
    assert ("org", "updated", f"user_account #{wang}") in [r[:3] for r in log]
    assert report_of(app, session).intact
    session.execute(text(f"UPDATE user_account SET password_hash = 'x' WHERE id = {wang}"))
    assert f"user_account #{wang} 与第" in " ".join(report_of(app, session).rows)


def test_the_head_is_anchored_on_demand_once_per_change(app, session):
    runner = app.test_cli_runner()
    assert "审计日志为空" in runner.invoke(args=["audit", "anchor"]).output
    staff(session, "zhaoliu", "赵六")
    session.commit()
    assert "锚点：第 1 条" in runner.invoke(args=["audit", "anchor"]).output
    runner.invoke(args=["audit", "anchor"])  # nothing new: no second line
    anchors, problems = read_anchors(app.config["AUDIT_ANCHOR_PATH"])
    assert [a.seq for a in anchors] == [1] and problems == []
