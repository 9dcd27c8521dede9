"""Write the fictional demo county 青山县 as an import CSV to stdout.

    python scripts/demo_county.py > qingshan.csv
    flask --app app org import qingshan.csv    # or simply: flask --app app org demo

The rows come from ``app.org.demo`` (so ``org demo`` works from an installed
package too); its docstring lists the username pattern: ``<unit>_<role>``, e.g.
``center_clerk``, ``scj_reviewer``, ``scj_spg_handler``, ``t01_clerk``,
``v0101_clerk``, ``center_inspector``, ``jw_inspector``, ``bigdata_admin``,
``city_zrzy_kc_reviewer``. Password: ``demo12345`` or ``YIMEN_DEMO_PASSWORD``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.org.demo import demo_rows
from app.org.spreadsheet import COLUMNS

__all__ = ["demo_rows", "write_csv"]


def write_csv(out=sys.stdout) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in demo_rows())


if __name__ == "__main__":
    write_csv()
