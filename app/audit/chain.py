"""Appending to the keyed hash chain of the audit log, and checking it.

Every new history row (process events, case events, deployments) and every
change of a *covered* row (a case, a work item, a user, an item, a calendar
day …) is mirrored into ``audit_entry`` in the same transaction, by session
listeners installed in ``install``. Entries are numbered by ``seq`` without
gaps; on PostgreSQL an advisory transaction lock serialises appenders (on
SQLite the writer already holds the database), so two transactions never
chain onto the same entry.

Each entry's hash is an HMAC-SHA256 with ``AUDIT_KEY`` (kept outside the
database) over its fields and the previous hash; entries written before the
key existed keep their plain SHA-256 (``alg``). An entry that covers a row
names it (``row_table``, ``row_id``) and digests its protected fields
(``row_sha256``); the latest entry per row is what the row must still look
like (docs/SECURITY.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from types import SimpleNamespace

from flask import current_app, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session

from app.models.audit import ALG_HMAC, ALG_PLAIN, AuditEntry
from workflows import models as wm
from workflows.timeutil import to_naive_utc, utcnow

GENESIS = "0" * 64
LOCK_KEY = 0x59494D454E  # "YIMEN": one advisory lock for the whole log
PLAIN_HASHED = (
    "seq", "at", "source", "action", "actor", "on_behalf_of", "instance_id", "case_id",
    "subject", "message", "data_sha256",
)  # fmt: skip
HASHED = (*PLAIN_HASHED, "alg", "row_table", "row_id", "row_sha256")
TABLE = AuditEntry.__table__


def _plain(value):
    if isinstance(value, datetime):
        return to_naive_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):  # 1, 1.0 and Numeric's 1.00 digest alike
        return str(Decimal(repr(value) if isinstance(value, float) else value).normalize())
    return value


_KEYS: dict[str, bytes] = {}  # database URL -> key, for sessions outside an app context


def use_key(url, key: str) -> None:
    """The key for sessions on ``url`` made outside an app context (scripts, tests)."""
    _KEYS[url.render_as_string(hide_password=False)] = key.encode()


def audit_key(bind=None) -> bytes:
    """The chain's HMAC key (``YIMEN_AUDIT_KEY`` or the instance folder's key file)."""
    if has_app_context():
        return current_app.config["AUDIT_KEY"].encode()
    if bind is not None:
        url = bind.engine.url.render_as_string(hide_password=False)
        if url in _KEYS:
            return _KEYS[url]
    raise RuntimeError("审计链的密钥未知：请在应用上下文中写入或校验审计日志。")


def entry_hash(prev_hash: str, fields: dict, key: bytes | None = None) -> str:
    """The entry's hash: HMAC-SHA256 with the key, or plain SHA-256 for legacy entries."""
    legacy = fields.get("alg") == ALG_PLAIN
    names = PLAIN_HASHED if legacy else HASHED
    body = json.dumps(
        [prev_hash, *(_plain(fields.get(name)) for name in names)],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    if legacy:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key or audit_key(), body, hashlib.sha256).hexdigest()


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
    key = audit_key(conn)
    chained = []
    for row in rows:
        seq += 1
        fields = {name: None for name in HASHED} | row | {"seq": seq, "alg": ALG_HMAC}
        fields["at"] = to_naive_utc(fields["at"] or utcnow())
        fields["prev_hash"], fields["hash"] = prev, entry_hash(prev, fields, key)
        prev = fields["hash"]
        chained.append(fields)
    conn.execute(TABLE.insert(), chained)


# --- checking ---------------------------------------------------------------------


@dataclass
class Break:
    seq: int
    entry_id: int | None
    reason: str


@dataclass
class Walk:
    """What walking the chain found: its length, first break, and what the checks need."""

    count: int = 0
    broken: Break | None = None
    head_hash: str = GENESIS
    hmac_from: int | None = None  # the first HMAC entry; before it, plain SHA-256
    legacy: int = 0  # entries with plain SHA-256
    hashes: dict[int, str] | None = None  # the hash at each anchored seq
    latest: dict[tuple[str, str], tuple[int, str | None]] | None = None  # row -> seq, digest


def walk(session, anchored: Iterable[int] = (), batch: int = 2000) -> Walk:
    """Walk the chain in order; stop at the first break."""
    key, wanted = audit_key(session.get_bind()), set(anchored)
    found = Walk(hashes={}, latest={})
    prev, expected, after = GENESIS, 1, None
    while True:  # keyset pages: no server-side cursor, any transaction mode
        stmt = select(TABLE).order_by(TABLE.c.seq).limit(batch)
        if after is not None:
            stmt = stmt.where(TABLE.c.seq > after)
        page = session.execute(stmt).mappings().all()
        if not page:
            return found
        for fields in page:
            found.count += 1
            found.broken = _entry_break(fields, expected, prev, key, found.hmac_from)
            if found.broken is not None:
                return found
            if fields["alg"] == ALG_PLAIN:
                found.legacy += 1
            elif found.hmac_from is None:
                found.hmac_from = fields["seq"]
            if fields["seq"] in wanted:
                found.hashes[fields["seq"]] = fields["hash"]
            if fields["row_table"] is not None:
                found.latest[fields["row_table"], fields["row_id"]] = (
                    fields["seq"],
                    fields["row_sha256"],
                )
            prev, expected = fields["hash"], expected + 1
            found.head_hash = prev
        after = page[-1]["seq"]


def _entry_break(fields, expected: int, prev: str, key: bytes, hmac_from) -> Break | None:
    seq, entry_id = fields["seq"], fields["id"]
    if seq != expected:
        return Break(expected, entry_id, f"缺少第 {expected} 条记录（已被删除）")
    if fields["prev_hash"] != prev:
        return Break(seq, entry_id, "与上一条记录的链接不符")
    if fields["alg"] == ALG_PLAIN and hmac_from is not None:
        return Break(seq, entry_id, "在密钥保护开始之后出现未加密钥的记录（已被改写）")
    if fields["alg"] not in (ALG_PLAIN, ALG_HMAC):
        return Break(seq, entry_id, f"未知的哈希算法 {fields['alg']}")
    if not hmac.compare_digest(entry_hash(prev, fields, key), fields["hash"]):
        return Break(seq, entry_id, "内容与其哈希不符（已被修改）")
    return None


def verify(session, batch: int = 2000) -> tuple[int, Break | None]:
    """Walk the chain in order; returns the number of entries and the first break."""
    found = walk(session, batch=batch)
    return found.count, found.broken


# --- covered rows --------------------------------------------------------------------


@dataclass(frozen=True)
class Covered:
    """A table whose rows the chain vouches for.

    ``fields``: the protected columns (None: every column but ``exclude``); every
    change of one is an entry. ``complete``: every row must have an entry (history
    and case tables; org and catalog rows may be bulk-imported). ``case_of`` and
    ``instance_of`` file the entry under its case or instance. ``collections``:
    relationships whose membership changes are entries too (a user's posts).
    """

    model: type
    source: str
    fields: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    complete: bool = False
    case_of: Callable | None = None
    instance_of: Callable | None = None
    collections: tuple[str, ...] = ()

    @property
    def table(self):
        return self.model.__table__

    @cached_property
    def key_column(self):
        (column,) = self.table.primary_key.columns
        return column

    @cached_property
    def protected(self) -> tuple[str, ...]:
        names = self.fields or tuple(c.key for c in self.table.columns)
        return tuple(n for n in names if n not in self.exclude)

    def row_id(self, values: Mapping) -> str:
        return str(_plain(values[self.key_column.key]))

    def digest(self, values: Mapping) -> str:
        body = json.dumps(
            {name: _plain(values.get(name)) for name in self.protected},
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


_COVERED: dict[type, Covered] = {}


def cover(covered: Covered) -> None:
    """Vouch for ``covered.model``'s rows: every insert, change and delete is an entry."""
    _COVERED[covered.model] = covered


def _values(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def _actor() -> str | None:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.username
    return None


def _row_fields(covered: Covered, values: Mapping, digest: str | None) -> dict:
    return {
        "row_table": covered.table.name,
        "row_id": covered.row_id(values),
        "row_sha256": digest,
    }


def _change_row(covered: Covered, obj, action: str, message: str | None = None) -> dict:
    if action == "deleted":  # only the key is sure to be loaded
        values, digest = {covered.key_column.key: _key_of(obj)}, None
    else:
        values = _values(obj)
        digest = covered.digest(values)
    return {
        "source": covered.source,
        "action": action,
        "actor": _actor(),
        "case_id": _filed_under(covered.case_of, obj),
        "instance_id": _filed_under(covered.instance_of, obj),
        "subject": f"{covered.table.name} #{covered.row_id(values)}",
        "message": message,
    } | _row_fields(covered, values, digest)


def _filed_under(of: Callable | None, obj) -> int | None:
    """The case or instance an entry is filed under; of a deleted row, only from what is loaded."""
    if of is None:
        return None
    try:
        return of(SimpleNamespace(**inspect(obj).dict))
    except AttributeError:
        return None


def _changed(covered: Covered, obj) -> list[str]:
    state = inspect(obj)
    return [name for name in covered.protected if state.attrs[name].history.has_changes()]


def _update_message(obj, changed: list[str]) -> str:
    note = f"字段：{'、'.join(changed)}"
    if "status" in changed:
        note += f"；status={obj.status}"
    return note


def _key_of(obj):
    """The primary key of a flushed object (identity keys are set only after the flush)."""
    state = inspect(obj)
    if state.identity is not None:
        return state.identity[0]
    return state.mapper.primary_key_from_instance(obj)[0]


def _collection_rows(covered: Covered, obj) -> list[dict]:
    state, rows = inspect(obj), []
    for name in covered.collections:
        history = state.attrs[name].history
        for verb, members in (("added", history.added), ("removed", history.deleted)):
            for member in members or ():
                rows.append(
                    _change_row(covered, obj, f"{name}_{verb}")
                    | {"message": f"{member.__table__.name} #{_key_of(member)}"}
                )
    return rows


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
    return _process_row(_values(event))


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


def _new_row(session, obj) -> dict | None:
    to_row, covered = _MIRRORS.get(type(obj)), _COVERED.get(type(obj))
    row = to_row(session, obj) if to_row is not None else None
    if covered is None:
        return row
    if row is None:
        return _change_row(covered, obj, "created")
    return row | _row_fields(covered, _values(obj), covered.digest(_values(obj)))


def _flush_rows(session) -> list[dict]:
    rows = [row for row in (_new_row(session, obj) for obj in session.new) if row is not None]
    for obj in session.dirty:
        covered = _COVERED.get(type(obj))
        if covered is None:
            continue
        changed = _changed(covered, obj)
        if changed:
            rows.append(_change_row(covered, obj, "updated", _update_message(obj, changed)))
        rows.extend(_collection_rows(covered, obj))
    for obj in session.new:
        covered = _COVERED.get(type(obj))
        if covered is not None and covered.collections:
            rows.extend(_collection_rows(covered, obj))
    for obj in session.deleted:
        covered = _COVERED.get(type(obj))
        if covered is not None:
            rows.append(_change_row(covered, obj, "deleted"))
    return rows


def _after_flush(session, _context) -> None:
    append(session, _flush_rows(session))


# --- statements that bypass the unit of work ------------------------------------------

_WATCHED_TABLES: dict[str, str] = {}  # plain table (no model) -> source, e.g. user_post


def watch_table(table, source: str) -> None:
    """Record Core inserts and deletes on a table without a model (association tables)."""
    _WATCHED_TABLES[table.name] = source


def _params(state) -> list[dict]:
    params = state.parameters
    return params if isinstance(params, list) else [params] if params else []


def _bulk_instance_events(state):
    """The runtime writes process events in one statement: chain them with their ids."""
    params = _params(state)
    if not params:
        return None
    stmt = state.statement.returning(wm.InstanceEvent.id, sort_by_parameter_order=True)
    result = state.invoke_statement(statement=stmt)
    ids = result.scalars().all()
    covered = _COVERED[wm.InstanceEvent]
    rows = []
    for event_id, values in zip(ids, params, strict=True):
        values = values | {"id": event_id}
        rows.append(_process_row(values) | _row_fields(covered, values, covered.digest(values)))
    append(state.session, rows)
    return result


def _set_columns(state) -> set[str] | None:
    values = getattr(state.statement, "_values", None) or {}
    names = {getattr(key, "key", key) for key in values}
    for params in _params(state):
        names.update(params)
    return names or None


def _affected_ids(state, covered: Covered) -> list:
    key = covered.key_column
    params = _params(state)
    if params and all(key.key in p for p in params):
        return [p[key.key] for p in params]
    where = state.statement.whereclause
    stmt = select(key) if where is None else select(key).where(where)
    return list(state.session.execute(stmt).scalars())


def _statement_row(state, source: str, table_name: str) -> dict:
    """One entry for a Core statement whose rows are not named (bulk inserts)."""
    verb = "insert" if state.is_insert else "update" if state.is_update else "delete"
    return {
        "source": source,
        "action": f"bulk_{verb}",
        "actor": _actor(),
        "subject": table_name,
        "message": f"{len(_params(state)) or 1} 行（批量语句，未逐行记录）",
        "data_sha256": data_digest(_params(state)),
    }


def _covered_statement(state, covered: Covered):
    """A Core/bulk insert, update or delete of covered rows: chain each row it changed."""
    if state.is_insert:
        result = state.invoke_statement()
        append(state.session, [_statement_row(state, covered.source, covered.table.name)])
        return result
    names = _set_columns(state)
    if state.is_update and names is not None and not names & set(covered.protected):
        return None  # e.g. claiming a work item: nothing the chain vouches for
    ids = _affected_ids(state, covered)
    result = state.invoke_statement()
    if state.is_delete:
        rows = [
            {"source": covered.source, "action": "deleted", "actor": _actor()}
            | {"subject": f"{covered.table.name} #{_plain(i)}"}
            | _row_fields(covered, {covered.key_column.key: i}, None)
            for i in ids
        ]
    else:
        current = state.session.execute(
            select(covered.table).where(covered.key_column.in_(ids))
        ).mappings()
        rows = [
            {"source": covered.source, "action": "updated", "actor": _actor()}
            | {"subject": f"{covered.table.name} #{covered.row_id(values)}"}
            | _row_fields(covered, values, covered.digest(values))
            for values in current
        ]
    append(state.session, rows)
    return result


def _on_execute(state):
    """Statements that bypass the unit of work: bulk events, Core updates and deletes."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    if state.bind_mapper is None:
        table = getattr(state.statement, "table", None)
        source = _WATCHED_TABLES.get(getattr(table, "name", None))
        if source is not None:
            result = state.invoke_statement()
            append(state.session, [_statement_row(state, source, table.name)])
            return result
        return None
    model = state.bind_mapper.class_
    if state.is_insert and model is wm.InstanceEvent:
        return _bulk_instance_events(state)
    covered = _COVERED.get(model)
    return _covered_statement(state, covered) if covered is not None else None


# the runtime's own rows; features cover theirs from the application factory.
# Routing and claiming move these work item fields without an entry.
WORK_ITEM_UNPROTECTED = (
    "lane",
    "properties",
    "form",
    "assignee",
    "claimed_at",
    "priority",
    "due_at",
    "version",
)
cover(Covered(wm.InstanceEvent, "process", complete=True, instance_of=lambda e: e.instance_id))
cover(
    Covered(
        wm.WorkItem,
        "process",
        exclude=WORK_ITEM_UNPROTECTED,
        complete=True,
        instance_of=lambda item: item.instance_id,
    )
)
cover(Covered(wm.Deployment, "deployment", complete=True))

_installed = False


def install() -> None:
    """Mirror history into the audit log from every session (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
