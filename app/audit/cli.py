"""``flask --app app audit verify``: check the audit log's hash chain."""

from __future__ import annotations

import click
from flask import Flask

from app.extensions import db

from .chain import verify


def register_audit_cli(app: Flask) -> None:
    @app.cli.group("audit")
    def audit():
        """The hash-chained audit log (审计日志)."""

    @audit.command("verify")
    def audit_verify():
        """Recompute the chain; name the first broken entry (exit status 1)."""
        count, broken = verify(db.session)
        if broken is None:
            click.echo(f"审计链完整：共 {count} 条记录。")
            return
        raise click.ClickException(
            f"审计链在第 {broken.seq} 条记录处断开（记录 id {broken.entry_id}）：{broken.reason}。"
        )
