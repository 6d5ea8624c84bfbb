"""Downloads of the back-office's tables: CSV (UTF-8 with a byte-order mark, so spreadsheet
programs read accents right; amounts as plain decimals with a point) and XLSX written by
openpyxl (amounts as numbers with their currency's decimals shown, dates as dates)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from o2c.domain.errors import NotFound

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str  # the row's key
    title: str  # the (translated) header
    money: bool = False  # an amount: a number with 2 decimals in XLSX


def export_format(value: str | None) -> str | None:
    """The format asked for by `?format=`; anything else is no page of ours (404)."""
    if value in (None, "", "html"):
        return None
    if value not in FORMATS:
        raise NotFound("format", str(value))
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def csv_bytes(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title for c in columns])
    for row in rows:
        writer.writerow([_text(row.get(c.key)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(columns: Sequence[Column], rows: Iterable[dict[str, Any]], title: str) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([c.title for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values: list[Any] = []
        for column in columns:
            value = row.get(column.key)
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            values.append(value)
        sheet.append(values)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "#,##0.00"
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.title) + 4))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(kind: str, filename: str, columns: Sequence[Column],
             rows: Iterable[dict[str, Any]], title: str) -> Response:
    """The table as a file to save (`kind` csv or xlsx)."""
    if kind == "csv":
        body, media = csv_bytes(columns, rows), "text/csv; charset=utf-8"
    else:
        body, media = xlsx_bytes(columns, rows, title), XLSX_TYPE
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}.{kind}"'})
