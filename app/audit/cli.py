"""``flask --app app audit verify|anchor``: check the audit log; write its head out."""

from __future__ import annotations

import click
from flask import Flask, current_app

from app.extensions import db

from .anchors import write_anchor
from .report import check


def register_audit_cli(app: Flask) -> None:
    @app.cli.group("audit")
    def audit():
        """The hash-chained audit log (审计日志)."""

    @audit.command("verify")
    def audit_verify():
        """Check the chain, the anchors and the rows; anchor the head if all is well."""
        path = current_app.config["AUDIT_ANCHOR_PATH"]
        report = check(db.session, path)
        click.echo(_protection(report))
        problems = list(report.anchors) + list(report.rows)
        if report.broken is not None:
            problems.insert(
                0,
                f"审计链在第 {report.broken.seq} 条记录处断开"
                f"（记录 id {report.broken.entry_id}）：{report.broken.reason}",
            )
        if problems:
            raise click.ClickException("\n".join(problems))
        write_anchor(db.session, path)
        click.echo(f"审计链完整：共 {report.count} 条记录。")

    @audit.command("anchor")
    def audit_anchor():
        """Append the chain's head to the anchor file and the log."""
        anchor = write_anchor(db.session, current_app.config["AUDIT_ANCHOR_PATH"])
        click.echo(
            "审计日志为空。" if anchor is None else f"锚点：第 {anchor.seq} 条 {anchor.hash}"
        )


def _protection(report) -> str:
    if report.hmac_from is None:
        return f"全部 {report.legacy} 条记录仅有普通 SHA-256（无密钥保护）。"
    if report.legacy:
        return f"第 1–{report.legacy} 条记录仅有普通 SHA-256；自第 {report.hmac_from} 条起受 HMAC 密钥保护。"
    return "全部记录受 HMAC 密钥保护。"
