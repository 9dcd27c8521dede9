"""``flask --app app org …``: import the organisation from a file, or load the demo county."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import click
from flask import Flask

from app.extensions import db

from .demo import COUNTY, DEFAULT_PASSWORD, demo_password, demo_rows
from .importer import ImportResult, import_rows
from .services import OrgError, region_by_code
from .spreadsheet import Row, read_table, rows_from_dicts

KIND_ZH = {
    "region": "区划",
    "department": "部门",
    "post": "岗位",
    "user": "用户",
    "user_post": "任职",
}


def run_import(rows: list[Row], *, must_change_password: bool = True) -> ImportResult:
    """Import in one transaction: committed whole, or rolled back and raised as ClickException."""
    try:
        result = import_rows(db.session, rows, must_change_password=must_change_password)
    except OrgError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.message}\n未导入任何数据。")
    db.session.commit()
    return result


def echo_result(result: ImportResult, seconds: float) -> None:
    """One summary line, then the generated passwords (shown only this once)."""
    parts = [
        f"{KIND_ZH[kind]} 新增 {result.created[kind]}"
        + (f" / 更新 {result.updated[kind]}" if kind in ("region", "department", "user") else "")
        for kind in KIND_ZH
    ]
    click.echo(f"导入完成（{seconds:.1f} 秒）：" + "，".join(parts))
    if result.generated_passwords:
        header = ("用户名", "初始密码")
        width = max(_width(u) for u, _p in [*result.generated_passwords, header])
        click.echo("以下新用户的初始密码由系统生成（只显示这一次，首次登录须修改）：")
        for username, password in [header, *result.generated_passwords]:
            click.echo(f"{username}{' ' * (width - _width(username))}  {password}")


def _width(text: str) -> int:
    """Terminal columns of ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def register_org_cli(app: Flask) -> None:
    @app.cli.group("org")
    def org():
        """Organisation: regions, departments, posts and users."""

    @org.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--no-force-change",
        is_flag=True,
        help="new users need not change their initial password at first login",
    )
    def import_command(file: Path, no_force_change: bool):
        """Import FILE (.csv UTF-8 or .xlsx), all rows or none.

        Columns: kind,code,name,level,parent_code,region_code,department_code,role,
        username,display_name,phone,password. kind is region (code,name,level,
        parent_code), department (code,name,region_code; a section: parent_code),
        post (department_code,role) or user (username,display_name,phone,
        department_code,role,password; one row per post held).
        """
        started = time.perf_counter()
        try:
            rows = read_table(file)
        except OrgError as exc:
            raise click.ClickException(exc.message)
        result = run_import(rows, must_change_password=not no_force_change)
        echo_result(result, time.perf_counter() - started)

    @org.command("demo")
    def demo_command():
        """Create the fictional demo county 青山县 (skipped when it exists)."""
        if region_by_code(db.session, COUNTY[0]) is not None:
            click.echo(f"演示县 {COUNTY[1]}（{COUNTY[0]}）已存在，跳过。")
            return
        started = time.perf_counter()
        password = demo_password()
        result = run_import(rows_from_dicts(demo_rows(password)), must_change_password=False)
        echo_result(result, time.perf_counter() - started)
        source = "环境变量 YIMEN_DEMO_PASSWORD" if password != DEFAULT_PASSWORD else "默认"
        click.echo(f"演示账号的密码（{source}）：{password}")
        click.echo(
            "用户名示例：center_clerk（县政务服务中心窗口）、scj_spg_handler（市场监管局审批股承办人）、"
            "scj_reviewer、t01_clerk（城关街道便民服务中心）、v0101_clerk（村代办点）、"
            "center_inspector、jw_inspector、bigdata_admin；完整规则见 app/org/demo.py。"
        )
