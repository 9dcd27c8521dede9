"""Appending to the hash-chained audit log, and checking the chain.

Every new history row (process events, case events, deployments) is mirrored
into ``audit_entry`` in the same transaction, by session listeners installed in
``install``. Entries are numbered by ``seq`` without gaps; on PostgreSQL an
advisory transaction lock serialises appenders (on SQLite the writer already
holds the database), so two transactions never chain onto the same entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from app.models.audit import AuditEntry
from workflows import models as wm
from workflows.timeutil import to_naive_utc, utcnow

GENESIS = "0" * 64
LOCK_KEY = 0x59494D454E  # "YIMEN": one advisory lock for the whole log
HASHED = (
    "seq", "at", "source", "action", "actor", "on_behalf_of", "instance_id", "case_id",
    "subject", "message", "data_sha256",
)  # fmt: skip
TABLE = AuditEntry.__table__


def _plain(value):
    if isinstance(value, datetime):
        return to_naive_utc(value).isoformat(timespec="microseconds")
    return value


def entry_hash(prev_hash: str, fields: dict) -> str:
    body = json.dumps(
        [prev_hash, *(_plain(fields.get(name)) for name in HASHED)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def data_digest(data) -> str | None:
    if data is None:
        return None
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def append(session, rows: list[dict]) -> None:
    """Chain ``rows`` (dicts of AuditEntry fields) after the last entry."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    last = conn.execute(
        select(TABLE.c.seq, TABLE.c.hash).order_by(TABLE.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    chained = []
    for row in rows:
        seq += 1
        fields = {name: None for name in HASHED} | row | {"seq": seq}
        fields["at"] = to_naive_utc(fields["at"] or utcnow())
        fields["prev_hash"], fields["hash"] = prev, entry_hash(prev, fields)
        prev = fields["hash"]
        chained.append(fields)
    conn.execute(TABLE.insert(), chained)


@dataclass
class Break:
    seq: int
    entry_id: int | None
    reason: str


def verify(session, batch: int = 2000) -> tuple[int, Break | None]:
    """Walk the chain in order; returns the number of entries and the first break."""
    prev, expected, count, after = GENESIS, 1, 0, None
    while True:  # keyset pages: no server-side cursor, any transaction mode
        stmt = select(TABLE).order_by(TABLE.c.seq).limit(batch)
        if after is not None:
            stmt = stmt.where(TABLE.c.seq > after)
        page = session.execute(stmt).mappings().all()
        if not page:
            break
        for row in page:
            count += 1
            fields = dict(row)
            if fields["seq"] != expected:
                return count, Break(expected, fields["id"], f"缺少第 {expected} 条记录（已被删除）")
            if fields["prev_hash"] != prev:
                return count, Break(fields["seq"], fields["id"], "与上一条记录的链接不符")
            if entry_hash(prev, fields) != fields["hash"]:
                return count, Break(fields["seq"], fields["id"], "内容与其哈希不符（已被修改）")
            prev, expected = fields["hash"], expected + 1
        after = page[-1]["seq"]
    return count, None


# --- what is mirrored ----------------------------------------------------------------


def _process_row(params: dict) -> dict:
    return {
        "at": params.get("at"),
        "source": "process",
        "action": params.get("kind"),
        "actor": params.get("actor"),
        "on_behalf_of": params.get("on_behalf_of"),
        "instance_id": params.get("instance_id"),
        "subject": params.get("name") or params.get("bpmn_id"),
        "message": params.get("message"),
        "data_sha256": data_digest(params.get("data")),
    }


def _deployment_row(_session, deployment: wm.Deployment) -> dict:
    return {
        "at": deployment.created_at,
        "source": "deployment",
        "action": "deploy",
        "actor": deployment.created_by,
        "subject": f"部署 #{deployment.id}",
        "message": "、".join(f.name for f in deployment.files),
        "data_sha256": deployment.bundle_sha256,
    }


def _instance_event_row(_session, event: wm.InstanceEvent) -> dict:
    return _process_row({c.key: getattr(event, c.key) for c in wm.InstanceEvent.__table__.c})


# model class -> to_row(session, obj): the audit entry fields of a new row, or None
_MIRRORS: dict[type, Callable] = {
    wm.InstanceEvent: _instance_event_row,
    wm.Deployment: _deployment_row,
}


def register(model: type, to_row: Callable) -> None:
    """Mirror every new ``model`` row into the chain as ``to_row(session, obj)`` says.

    Features register their history models (the application factory does it);
    the chain itself knows none of them.
    """
    _MIRRORS[model] = to_row


def _object_row(session, obj) -> dict | None:
    to_row = _MIRRORS.get(type(obj))
    return to_row(session, obj) if to_row is not None else None


def _after_flush(session, _context) -> None:
    rows = [row for row in (_object_row(session, obj) for obj in session.new) if row is not None]
    append(session, rows)


def _on_execute(state) -> None:
    """Bulk inserts of process events (the runtime writes them in one statement)."""
    if not state.is_insert or state.bind_mapper is None:
        return
    if state.bind_mapper.class_ is not wm.InstanceEvent:
        return
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    append(state.session, [_process_row(p) for p in rows])


_installed = False


def install() -> None:
    """Mirror history into the audit log from every session (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
