"""The timer scheduler: inside the web process (embedded default) or on its own."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from app.audit.anchors import write_anchor
from app.cases.services import apply_deemed_acceptance
from app.clock import center_clock
from app.engine import platform_runtime
from app.extensions import db
from app.messages.services import deliver_pending
from app.statistics import facts as statistics_facts
from app.supervision.warnings import issue_warnings

log = logging.getLogger(__name__)


def fire_timers_job(app, now=None) -> int:
    """One scheduler tick: fire every due timer; returns how many instances advanced."""
    with app.app_context():
        try:
            fired = platform_runtime().fire_due_timers(
                now=now, limit=app.config.get("TIMER_BATCH", 100)
            )
        finally:
            db.session.remove()
    for f in fired:
        log.info("timer fired: instance %s %s -> %s", f.instance_id, f.timers, f.status)
    return len(fired)


def deliver_messages_job(app) -> int:
    """Deliver messages and signals instances threw that no request delivered yet."""
    with app.app_context():
        try:
            done = deliver_pending(db.session)
        finally:
            db.session.remove()
    for d in done:
        log.info("thrown message delivered: %s", d)
    return len(done)


def _in_transaction(app, work, describe) -> int:
    """Run ``work(session)`` in its own app context and transaction; log what it did."""
    with app.app_context():
        try:
            done = [describe(row) for row in work(db.session)]
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
    for line in done:
        log.info(line)
    return len(done)


def case_deadlines_job(app, now=None) -> int:
    """Applications not answered within 5 working days count as accepted (Art. 32)."""
    return _in_transaction(
        app,
        lambda session: apply_deemed_acceptance(session, center_clock(session).at(now).today()),
        lambda case: f"case {case.number} deemed accepted on the day it was received",
    )


def warnings_job(app, now=None) -> int:
    """黄牌/红牌 due now; safe to run in several processes at once."""
    return _in_transaction(
        app,
        lambda session: issue_warnings(session, center_clock(session).at(now)),
        lambda warning: f"warning issued: {warning.message}",
    )


def statistics_facts_job(app, now=None) -> int:
    """Keep the facts of each finished month (the statistics' 12-month trend reads them)."""
    return _in_transaction(
        app,
        lambda session: statistics_facts.fill(session, center_clock(session).at(now)),
        lambda month: f"statistics facts kept for {month:%Y-%m}",
    )


def audit_anchor_job(app) -> int | None:
    """Write the audit chain's head out of band (the anchor file and the log)."""
    with app.app_context():
        try:
            anchor = write_anchor(db.session, app.config["AUDIT_ANCHOR_PATH"])
        finally:
            db.session.remove()
    return anchor.seq if anchor is not None else None


def _add_job(scheduler, app) -> None:
    every = {"seconds": app.config["SCHEDULER_INTERVAL_SECONDS"]}
    jobs = [
        ("fire_due_timers", fire_timers_job, every),
        ("deliver_messages", deliver_messages_job, every),
        ("warnings", warnings_job, {"minutes": 1}),
        ("case_deadlines", case_deadlines_job, {"minutes": 10}),
        ("statistics_facts", statistics_facts_job, {"hours": 1}),
        ("audit_anchor", audit_anchor_job, {"minutes": app.config["AUDIT_ANCHOR_MINUTES"]}),
    ]
    for job_id, job, interval in jobs:
        scheduler.add_job(
            job, "interval", args=[app], id=job_id, max_instances=1, coalesce=True, **interval
        )


def start_embedded_scheduler(app) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    _add_job(scheduler, app)
    scheduler.start()
    app.extensions["yimen_scheduler"] = scheduler
    return scheduler


def run_scheduler_forever(app) -> None:
    scheduler = BlockingScheduler()
    _add_job(scheduler, app)
    scheduler.start()
