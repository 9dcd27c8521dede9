"""Anchors: the chain's head written out of band, to find truncation and rewriting.

Whoever can write the database can cut the chain's tail or, holding the key,
rewrite it; an anchor file kept elsewhere (append-only, its copies in the log)
remembers what the head was. ``check`` compares the chain with every anchor.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from workflows.timeutil import to_naive_utc, utcnow

from .chain import TABLE

log = logging.getLogger("yimen.audit.anchor")


@dataclass(frozen=True)
class Anchor:
    at: str
    seq: int
    hash: str


def head(session) -> tuple[int, str] | None:
    """The last entry's seq and hash, or None for an empty log."""
    row = session.execute(
        select(TABLE.c.seq, TABLE.c.hash).order_by(TABLE.c.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else None


def read_anchors(path: str | Path) -> tuple[list[Anchor], list[str]]:
    """The anchors in the file, and a note for each line that is not one."""
    anchors, problems = [], []
    file = Path(path)
    if not file.exists():
        return anchors, problems
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            anchors.append(Anchor(record["at"], int(record["seq"]), str(record["hash"])))
        except (ValueError, KeyError, TypeError):
            problems.append(f"锚点文件第 {number} 行无法读取")
    return anchors, problems


def write_anchor(session, path: str | Path) -> Anchor | None:
    """Append the chain's head to the anchor file and the log (not when unchanged)."""
    current = head(session)
    if current is None:
        return None
    anchors, _problems = read_anchors(path)
    if anchors and (anchors[-1].seq, anchors[-1].hash) == current:
        return anchors[-1]
    anchor = Anchor(to_naive_utc(utcnow()).isoformat(timespec="seconds"), *current)
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"at": anchor.at, "seq": anchor.seq, "hash": anchor.hash}) + "\n"
    fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("audit anchor seq=%s hash=%s", anchor.seq, anchor.hash)
    return anchor


def compare(anchors: list[Anchor], head_seq: int, hashes: dict[int, str]) -> list[str]:
    """Truncation (the chain ends before an anchored seq) and rewriting (another hash)."""
    problems = []
    for anchor in anchors:
        if anchor.seq > head_seq:
            problems.append(
                f"审计链被截断：锚点（{anchor.at}）记录到第 {anchor.seq} 条，"
                f"数据库只到第 {head_seq} 条"
            )
        elif anchor.seq in hashes and hashes[anchor.seq] != anchor.hash:
            problems.append(f"审计链被改写：第 {anchor.seq} 条记录的哈希与锚点（{anchor.at}）不符")
    return problems
