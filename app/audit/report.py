"""``audit verify``: the chain, the anchors and the rows the chain vouches for.

The rule for rows: the *latest* entry naming a row holds the digest of its
protected fields as the application left it. Every legitimate change of a
protected field (a case's status moving on, a work item completed) is itself
an entry, so a row whose digest differs from its latest entry was changed
behind the application's back; a row whose latest entry has a digest but which
is gone was deleted behind its back. Tables marked ``complete`` must have an
entry for every row, unless the chain still holds legacy (pre-key) entries:
rows from before the upgrade have none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from . import anchors as anchor_file
from .chain import _COVERED, Break, Covered, walk


@dataclass
class Report:
    count: int
    broken: Break | None
    hmac_from: int | None
    legacy: int
    anchors: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.anchors and not self.rows


def check(session, anchor_path: str | Path | None = None, batch: int = 2000) -> Report:
    """Walk the chain, compare it with the anchors, recompute every covered row."""
    anchors, unreadable = anchor_file.read_anchors(anchor_path) if anchor_path else ([], [])
    found = walk(session, anchored={a.seq for a in anchors}, batch=batch)
    report = Report(found.count, found.broken, found.hmac_from, found.legacy)
    report.anchors = unreadable + anchor_file.compare(anchors, found.count, found.hashes)
    if found.broken is None:
        report.rows = check_rows(session, found.latest, legacy=found.legacy > 0, batch=batch)
    return report


def check_rows(session, latest: dict, legacy: bool, batch: int = 2000) -> list[str]:
    """Every covered row against the latest entry naming it."""
    problems = []
    for covered in _COVERED.values():
        expected = {
            row_id: entry
            for (table, row_id), entry in latest.items()
            if table == covered.table.name
        }
        problems += _check_table(session, covered, expected, legacy, batch)
    return problems


def _check_table(session, covered: Covered, expected: dict, legacy: bool, batch: int) -> list:
    problems, name, key = [], covered.table.name, covered.key_column
    after = None
    while True:
        stmt = select(covered.table).order_by(key).limit(batch)
        if after is not None:
            stmt = stmt.where(key > after)
        page = session.execute(stmt).mappings().all()
        if not page:
            break
        for values in page:
            row_id = covered.row_id(values)
            entry = expected.pop(row_id, None)
            if entry is None:
                if covered.complete and not legacy:
                    problems.append(f"{name} #{row_id} 不在审计链中（绕过应用写入）")
            elif entry[1] is None:
                problems.append(f"{name} #{row_id} 已于第 {entry[0]} 条记录删除，却仍然存在")
            elif covered.digest(values) != entry[1]:
                problems.append(f"{name} #{row_id} 与第 {entry[0]} 条记录不符（已被修改）")
        after = page[-1][key.key]
    for row_id, (seq, digest) in expected.items():
        if digest is not None:
            problems.append(f"{name} #{row_id} 已被删除（第 {seq} 条记录时仍存在）")
    return problems
