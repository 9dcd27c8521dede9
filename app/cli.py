"""Command-line entry points: ``flask --app app <command>``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask

from workflows.deployments import UploadedFile, deploy

from .audit.cli import register_audit_cli
from .auth.services import UnknownUser, ensure_admin, issue_token
from .extensions import db
from .items.cli import register_items_cli
from .org.cli import register_org_cli
from .scheduler import run_scheduler_forever


def load_bundles(root: Path, actor: str = "system") -> list[tuple[str, object]]:
    """Deploy every folder of diagrams under ``root`` (one bundle per folder)."""
    results = []
    folders = sorted({p.parent for p in root.rglob("*.bpmn")})
    for folder in folders:
        files = [
            UploadedFile(p.name, p.read_bytes())
            for p in sorted(folder.iterdir())
            if p.suffix.lower() in (".bpmn", ".dmn", ".json")
        ]
        results.append((str(folder.relative_to(root)), deploy(db.session, files, actor=actor)))
        db.session.commit()
    return results


def register_cli(app: Flask) -> None:
    @app.cli.command("bpmn-load")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def bpmn_load(directory: Path):
        """Deploy the diagrams under DIRECTORY (each folder is one bundle)."""
        for folder, result in load_bundles(directory):
            versions = ", ".join(f"{d.process_id} v{d.version}" for d in result.definitions)
            state = "已部署" if result.created else "未变化"
            click.echo(f"{folder}: {state} {versions}")

    @app.cli.command("create-admin")
    def create_admin():
        """Create the ``admin`` account (password from YIMEN_ADMIN_PASSWORD or printed once)."""
        account = ensure_admin(db.session, os.environ.get("YIMEN_ADMIN_PASSWORD"))
        db.session.commit()
        if not account.created:
            click.echo("管理员账号 admin 已存在。")
        elif account.generated:
            click.echo("=" * 60)
            click.echo(f"管理员账号 admin 已创建，初始密码（只显示这一次）：{account.generated}")
            click.echo("=" * 60)
        else:
            click.echo("管理员账号 admin 已创建（密码取自 YIMEN_ADMIN_PASSWORD）。")

    @app.cli.group("tokens")
    def tokens():
        """API bearer tokens."""

    @tokens.command("create")
    @click.argument("username")
    @click.option("--name", default="cli", help="what the token is for")
    def tokens_create(username: str, name: str):
        """Issue a bearer token for USERNAME; the token is the last line printed."""
        try:
            token = issue_token(db.session, username, name)
        except UnknownUser as exc:
            raise click.ClickException(exc.message)
        db.session.commit()
        click.echo(f"已为 {username} 签发访问令牌（请妥善保存，只显示这一次）：")
        click.echo(token)

    @app.cli.command("scheduler")
    def scheduler():
        """Run the timer scheduler as its own process (for scale-out)."""
        click.echo("定时器调度进程已启动（Ctrl+C 退出）。")
        run_scheduler_forever(app)

    register_org_cli(app)
    register_items_cli(app)
    register_audit_cli(app)
