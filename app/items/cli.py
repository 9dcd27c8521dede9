"""``flask --app app items …``: load the item catalog from a JSON file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from app.extensions import db

from .catalog import CatalogError, sync_catalog, sync_packages


def register_items_cli(app: Flask) -> None:
    @app.cli.group("items")
    def items():
        """Approval items (审批事项)."""

    @items.command("load")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def items_load(file: Path):
        """Create or update the items listed in FILE (e.g. bpmn/catalog.json)."""
        try:
            loaded = sync_catalog(db.session, file)
            packages = sync_packages(db.session, file)
        except CatalogError as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc.message}\n未导入任何事项。")
        db.session.commit()
        for each in loaded:
            click.echo(f"{each.item.code} {each.item.name}: {each.state_zh}")
        for each in packages:
            click.echo(f"{each.package.code} 一件事 {each.package.name}: {each.state_zh}")
