"""Every action lands in the hash-chained audit log; an edited or deleted row is found."""

from __future__ import annotations

import threading

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit.chain import append, audit_key, entry_hash, verify
from app.models.audit import AuditEntry

from ..cases.test_window_pages import do, intake, received, window
from ..conftest import DEMO_PASSWORD, SHIPPED_FOLDERS, engine_of, signed_in


def actions(session) -> list[tuple[str, str]]:
    session.expire_all()
    return [
        (e.source, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    ]


def a_case(app, session) -> str:
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",)))
    decide = {
        "change_type": "premises",
        "decision": "approve",
        "opinion": "准予变更。",
        "registration_no": "92490102MA0000001X",
    }
    do(app, session, "center_clerk", number, "Task_Decide", decide)
    return number


def test_deployments_window_acts_and_process_steps_are_chained(app, shipped, session):
    deployed = actions(session)
    assert deployed.count(("deployment", "deploy")) == len(SHIPPED_FOLDERS)
    number = a_case(app, session)
    log = actions(session)[len(deployed) :]
    assert ("case", "received") in log and ("case", "accepted") in log
    assert ("process", "started") in log and ("process", "task_completed") in log
    assert ("case", "decided") in log and ("process", "completed") in log
    count, broken = verify(session)
    assert broken is None and count == len(deployed) + len(log)

    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"共 {count} 条记录" in result.output

    # the supervisor reads the case's own entries
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    page = inspector.get(f"/supervision/cases/{number}/audit").get_data(as_text=True)
    assert 'data-action="received"' in page and 'data-action="task_completed"' in page
    assert 'data-action="deploy"' not in page
    assert window(app).get(f"/supervision/cases/{number}/audit").status_code == 403
    assert inspector.get("/supervision/cases/4901022026010100001/audit").status_code == 404


def test_an_edited_or_deleted_entry_breaks_the_chain_there(app, shipped, session):
    a_case(app, session)
    count, broken = verify(session)
    assert broken is None and count > 8
    session.execute(text("UPDATE audit_entry SET message = '改过了' WHERE seq = 7"))
    count, broken = verify(session)
    assert (broken.seq, "已被修改" in broken.reason) == (7, True)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and "第 7 条记录" in result.output

    first = session.scalars(select(AuditEntry).where(AuditEntry.seq == 7)).one()
    session.execute(text("DELETE FROM audit_entry WHERE seq = 7"))
    _count, broken = verify(session)
    assert broken.seq == 7 and "删除" in broken.reason
    # re-inserting a forged entry with a fresh hash cannot link on both sides, even
    # for someone who holds the key
    forged = {c.key: getattr(first, c.key) for c in AuditEntry.__table__.c if c.key != "id"}
    forged["message"] = "伪造"
    forged["hash"] = entry_hash(forged["prev_hash"], forged, audit_key(session.get_bind()))
    session.execute(AuditEntry.__table__.insert(), [forged])
    _count, broken = verify(session)
    assert broken.seq == 8 and "链接" in broken.reason


def test_concurrent_writers_never_chain_onto_the_same_entry(app):
    engine = engine_of(app)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(15):
                with app.app_context(), Session(engine) as s:
                    append(
                        s, [{"source": "case", "action": "test", "actor": name, "message": str(i)}]
                    )
                    s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with Session(engine) as s:
        count, broken = verify(s)
    assert broken is None and count == 45
