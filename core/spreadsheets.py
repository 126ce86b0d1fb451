"""Cells of the files we let people download (XLSX and CSV): text that a spreadsheet
never reads as a formula, Excel dates shown dd/mm/yyyy, fitted column widths, CSV in the
reader's convention. Shared by the reseller's client export and the portal's reports."""

from __future__ import annotations

import csv
import re
from datetime import date
from typing import IO

from flask_babel import get_locale
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# Text starting with one of these could be read as a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
# XML 1.0 forbids these control characters; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Excel dates shown the Brazilian way, whatever the reader's locale.
DATE_FORMAT = "dd/mm/yyyy"
# Column widths, in characters, fitted to the rows given, between these bounds.
MIN_WIDTH, MAX_WIDTH = 6, 60


def text_cell(ws, value: str):
    """A string cell that is always text, whatever it starts with."""
    cleaned = _ILLEGAL_XML.sub("", value)
    if cleaned.startswith(FORMULA_TRIGGERS) or cleaned != value:
        cell = WriteOnlyCell(ws, value=cleaned)
        cell.data_type = "s"
        return cell
    return cleaned


def csv_text(value: str) -> str:
    """A CSV field that no spreadsheet runs: text starting like a formula gets a leading
    apostrophe (OWASP's advice), which spreadsheets show as plain text."""
    cleaned = _ILLEGAL_XML.sub("", value)
    return "'" + cleaned if cleaned.startswith(FORMULA_TRIGGERS) else cleaned


def _decimal_comma() -> bool:
    """Portuguese (and most of Europe) writes 1,5 and so separates CSV fields with ';',
    which is what a spreadsheet opened in Brazil expects."""
    locale = get_locale()
    return locale is not None and locale.number_symbols.get("latn", {}).get("decimal") == ","


def csv_writer(out: IO[str]):
    """A CSV writer in the reader's convention: ';' where the decimal mark is a comma."""
    return csv.writer(out, delimiter=";" if _decimal_comma() else ",")


def csv_row(values) -> list:
    """A row's fields for :func:`csv_writer`: text formula-safe, decimals with the
    reader's decimal mark (whole numbers and everything else as they are)."""
    comma = _decimal_comma()
    return [
        csv_text(v)
        if isinstance(v, str)
        else (str(v).replace(".", ",") if comma and isinstance(v, float) else v)
        for v in values
    ]


def date_cell(ws, value: date | None):
    """An Excel date (a number) shown as dd/mm/yyyy; ``None`` stays an empty cell."""
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = DATE_FORMAT
    return cell


def _shown_length(value) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return len("00/00/0000")
    return len(str(value))


def set_column_widths(ws, lines: list[list]) -> None:
    """Fit each column to the longest value of ``lines`` (header included), within bounds.

    In write-only mode the widths must be set before the first row is written.
    """
    for index, values in enumerate(zip(*lines, strict=True), start=1):
        longest = max(_shown_length(v) for v in values)
        ws.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))


def header_cells(ws, titles: list[str]) -> list:
    """The bold cells of a sheet's header row."""
    bold = Font(bold=True)
    cells = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        cells.append(cell)
    return cells
