"""Reading the import file: a CSV (UTF-8, with or without BOM) or an Excel .xlsx sheet.

Rows are numbered as a spreadsheet shows them (the header is row 1), so an
error message points at the line an administrator sees in Excel.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .services import OrgError

COLUMNS = (
    "kind",
    "code",
    "name",
    "level",
    "parent_code",
    "region_code",
    "department_code",
    "role",
    "username",
    "display_name",
    "phone",
    "password",
)


@dataclass(frozen=True)
class Row:
    """One line of the file: its spreadsheet row number and its cells by column name."""

    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


def read_table(path: Path) -> list[Row]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return rows_from_records(_xlsx_records(path))
    if suffix == ".csv":
        return rows_from_records(_csv_records(path.read_bytes()))
    raise OrgError("只能导入 .csv（UTF-8 编码）或 .xlsx 文件")


def rows_from_dicts(dicts: Iterable[dict]) -> list[Row]:
    """Rows from dictionaries (the demo county), numbered as if written to a file."""
    return [
        Row(number, {c: _cell_text(d.get(c)) for c in COLUMNS})
        for number, d in enumerate(dicts, start=2)
    ]


def rows_from_records(records: list[list]) -> list[Row]:
    if not records:
        raise OrgError("文件是空的")
    header = [_cell_text(h).lower() for h in records[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise OrgError(f"第 1 行：未知的列 {'、'.join(unknown)}；可用的列：{','.join(COLUMNS)}")
    if "kind" not in header:
        raise OrgError("第 1 行：缺少 kind 列（表头应为 " + ",".join(COLUMNS) + "）")
    rows = []
    for number, record in enumerate(records[1:], start=2):
        values = {h: _cell_text(v) for h, v in zip(header, record, strict=False) if h}
        if any(values.values()):
            rows.append(Row(number, values))
    return rows


def _cell_text(value) -> str:
    """Cell text; Excel stores codes typed as numbers as int or float."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _csv_records(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OrgError("CSV 文件不是 UTF-8 编码：请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”")
    return list(csv.reader(io.StringIO(text, newline="")))


def _xlsx_records(path: Path) -> list[list]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise OrgError("无法读取该 Excel 文件：请确认是 .xlsx 格式")
    try:
        return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
