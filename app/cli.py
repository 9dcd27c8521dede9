"""Command-line entry points: ``flask --app app <command>``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask

from workflows.deployments import UploadedFile, deploy
from workflows.timeutil import utcnow

from .audit.cli import register_audit_cli
from .auth.services import (
    UnknownToken,
    UnknownUser,
    ensure_admin,
    find_user,
    issue_token,
    revoke_token,
    revoke_tokens,
    token_state,
    tokens_of,
)
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
    @click.option("--name", default="命令行签发", help="what the token is for")
    @click.option("--days", type=click.IntRange(min=1), help="days valid (YIMEN_API_TOKEN_DAYS)")
    def tokens_create(username: str, name: str, days: int | None):
        """Issue a bearer token for USERNAME; the token is the last line printed."""
        days = days or app.config["API_TOKEN_DAYS"]
        try:
            token = issue_token(db.session, username, name, days)
        except UnknownUser as exc:
            raise click.ClickException(exc.message)
        db.session.commit()
        click.echo(f"已为 {username} 签发访问令牌，{days} 天内有效（请妥善保存，只显示这一次）：")
        click.echo(token)

    @tokens.command("list")
    @click.argument("username", required=False)
    def tokens_list(username: str | None):
        """The tokens of USERNAME (or everyone's): id, user, name, dates, state."""
        user = _user_or_fail(username) if username else None
        now = utcnow()
        for token in tokens_of(db.session, user):
            click.echo(
                f"{token.id}\t{token.user.username}\t{token.name}\t"
                f"签发 {token.created_at:%Y-%m-%d %H:%M}\t到期 {token.expires_at:%Y-%m-%d %H:%M}\t"
                f"{token_state(token, now)}"
            )

    @tokens.command("revoke")
    @click.argument("token_id", type=int, required=False)
    @click.option("--user", "username", help="revoke every token of this user")
    def tokens_revoke(token_id: int | None, username: str | None):
        """Revoke the token TOKEN_ID, or with --user every token of a user."""
        if (token_id is None) == (username is None):
            raise click.UsageError("请给出令牌 ID，或用 --user 指定用户（二者选一）。")
        try:
            if username:
                revoked = revoke_tokens(
                    db.session, tokens_of(db.session, _user_or_fail(username)), "cli"
                )
            else:
                revoked = revoke_token(db.session, token_id, "cli")
        except UnknownToken as exc:
            raise click.ClickException(exc.message)
        db.session.commit()
        click.echo(f"已撤销 {revoked} 个访问令牌。")

    def _user_or_fail(username: str):
        user = find_user(db.session, username)
        if user is None:
            raise click.ClickException(UnknownUser(username).message)
        return user

    @app.cli.command("scheduler")
    def scheduler():
        """Run the timer scheduler as its own process (for scale-out)."""
        click.echo("定时器调度进程已启动（Ctrl+C 退出）。")
        run_scheduler_forever(app)

    register_org_cli(app)
    register_items_cli(app)
    register_audit_cli(app)
