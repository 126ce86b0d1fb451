"""The client list as XLSX: the filtered rows, typed cells, no formulas ever, a
server-set file name, and the background job for large exports."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.extensions import db
from reseller.models import ExportJob
from tests.conftest import Browser

TRICKY = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


def download(browser, query: str = ""):
    response = browser.get(f"/reseller/clients/export.xlsx?{query}")
    assert response.status_code == 200, response.status_code
    data = response.get_data()
    disposition = response.headers["Content-Disposition"]
    response.close()
    return data, disposition


def rows_of(data: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(data)).active
    return list(sheet.iter_rows(values_only=True))


def test_export_holds_exactly_the_filtered_rows_with_typed_cells(owner, factory, tenants):
    plan = factory.plan(tenants.a.id, name="Ouro")
    factory.client(
        tenants.a.id,
        trade_name="Loja Pix",
        plan_id=plan.id,
        payment_type="pix",
        payment_status="paid",
        paid_on=date(2026, 11, 3),
        due_date=date(2026, 12, 3),
        created_at=datetime(2026, 2, 1, 15),
    )
    factory.client(
        tenants.a.id, trade_name="Loja Boleto", plan_id=plan.id, payment_type="boleto", payment_status="paid"
    )
    data, disposition = download(owner, "payment_type=pix&trade_name=loja")
    header, *rows = rows_of(data)
    assert header[:3] == ("ID", "Nome fantasia", "Razão social")
    assert [r[1] for r in rows] == ["Loja Pix"]
    row = rows[0]
    assert isinstance(row[0], int) and isinstance(row[5], int)  # id, sessions remaining
    assert row[3] == "Ouro" and row[4] == "Ativo" and row[6] == "Não"
    # Dates, not text. Paid at midnight UTC on the 3rd = the 2nd in São Paulo.
    assert row[7] == datetime(2026, 12, 3) and row[8] == datetime(2026, 11, 2)
    assert row[9] == datetime(2026, 2, 1)
    assert re.fullmatch(r"attachment; filename=clientes-\d{4}-\d{2}-\d{2}-\d{4}\.xlsx", disposition)


def test_no_cell_can_become_a_formula(owner, factory, tenants):
    for n, text in enumerate(TRICKY):
        factory.client(tenants.a.id, trade_name=text, legal_name=f"{text} Ltda {n}")
    data, _disposition = download(owner, "status=all")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    names = {r[1] for r in rows_of(data)[1:]}
    for text in TRICKY:
        assert text in names


def test_the_file_name_ignores_anything_in_the_request(owner):
    _data, disposition = download(owner, "name=../../etc/passwd&filename=evil.exe")
    assert "evil" not in disposition and "passwd" not in disposition


def test_bad_filters_redirect_with_a_message_and_export_nothing(owner):
    response = owner.get("/reseller/clients/export.xlsx?status=nope")
    assert response.status_code == 302 and response.headers["Location"].startswith("/reseller/clients")


def test_large_exports_run_as_a_job_with_progress_and_a_download(app, owner, factory, tenants, run_jobs):
    for n in range(55):  # the suite's sync limit is 50 rows
        factory.client(tenants.a.id, trade_name=f"Empresa {n:02d}")
    confirm = owner.get("/reseller/clients/export.xlsx?trade_name=empresa")
    assert confirm.status_code == 200 and "55" in confirm.get_data(as_text=True)
    started = owner.post("/reseller/exports", {"trade_name": "empresa"})
    assert started.status_code == 302
    status_url = started.headers["Location"]
    run_jobs()
    with app.app_context():
        export = db.session.scalar(select(ExportJob))
        assert export.status == "done" and export.done_rows == export.total_rows == 55
        export_id = export.id
    page = owner.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"/reseller/exports/{export_id}/download" in page
    response = owner.get(f"/reseller/exports/{export_id}/download")
    data = response.get_data()
    response.close()
    assert len(rows_of(data)) == 56
    # Another staff member of the same reseller, and reseller B, cannot see it.
    other = factory.staff(tenants.a.id, permissions=["clients"], email="colega@a.test")

    colleague = Browser(app)
    colleague.login(other.email)
    assert colleague.get(f"/reseller/exports/{export_id}").status_code == 404
    assert colleague.get(f"/reseller/exports/{export_id}/download").status_code == 404
    owner_b = Browser(app, "b.test")
    owner_b.login("owner@b.test")
    assert owner_b.get(f"/reseller/exports/{export_id}/download").status_code == 404


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_dates_are_excel_dates_shown_dd_mm_yyyy_and_empty_ones_are_empty(owner, factory, tenants):
    plan = factory.plan(tenants.a.id, name="Ouro")
    factory.client(
        tenants.a.id,
        trade_name="Loja Datada",
        plan_id=plan.id,
        payment_type="pix",
        payment_status="paid",
        paid_on=date(2026, 11, 3),
        due_date=date(2026, 12, 3),
    )
    factory.client(tenants.a.id, trade_name="Loja Sem Datas")
    factory.client(tenants.a.id, trade_name="Loja Tardia", plan_id=plan.id, due_date=date(2027, 1, 31))
    data, _disposition = download(owner, "trade_name=loja&sort=trade_name&dir=asc")
    sheet = sheet_of(data)
    dated, undated, late = sheet[2], sheet[3], sheet[4]
    assert dated[1].value == "Loja Datada" and undated[1].value == "Loja Sem Datas"
    # Each row keeps its own dates (the writer reuses one styled cell per date column).
    assert late[7].value == datetime(2027, 1, 31) and late[7].number_format == "dd/mm/yyyy"
    for cell in dated[7:10]:
        assert cell.is_date and isinstance(cell.value, datetime)
        assert cell.number_format == "dd/mm/yyyy"
    assert dated[7].value == datetime(2026, 12, 3)
    assert undated[7].value is None and undated[8].value is None
    assert undated[9].is_date  # everyone has a creation date


def test_the_header_row_is_frozen_and_columns_fit_their_content(owner, factory, tenants):
    long_legal = "Companhia Brasileira de Distribuição Ltda"
    factory.client(tenants.a.id, trade_name="Bar", legal_name=long_legal)
    data, _disposition = download(owner, "trade_name=bar")
    sheet = sheet_of(data)
    assert sheet.freeze_panes == "A2"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJ"}
    assert widths["C"] >= len(long_legal)  # legal name: the longest value
    assert (
        widths["B"] >= len("Nome fantasia") and widths["B"] < widths["C"]
    )  # the header is longer than "Bar"
    assert widths["H"] >= len("00/00/0000")  # dates
    assert all(6 <= w <= 60 for w in widths.values())


def test_an_over_long_value_does_not_make_a_column_wider_than_the_cap(owner, factory, tenants):
    factory.client(tenants.a.id, trade_name="Bar", legal_name="L" * 150)
    sheet = sheet_of(download(owner, "trade_name=bar")[0])
    assert sheet.column_dimensions["C"].width == 60


LIST_LINK = re.compile(r'id="download-link" href="([^"]+)"')


@pytest.mark.parametrize(("sort", "direction"), [("trade_name", "desc"), ("due_date", "desc"), ("id", "asc")])
def test_the_download_keeps_the_lists_sort(owner, factory, tenants, sort, direction):
    plan = factory.plan(tenants.a.id, name="Ouro")
    for n, name in enumerate(["Ótica", "Açougue", "Zeta", "Acougue", "Oficina"]):
        dated = n % 2 == 1
        factory.client(
            tenants.a.id,
            trade_name=name,
            plan_id=plan.id if dated else None,
            due_date=date(2026, 12, 1 + n) if dated else None,
            legal_name="Lote",
        )
    page = owner.get(f"/reseller/clients?legal_name=lote&sort={sort}&dir={direction}").get_data(as_text=True)
    on_screen = [int(x) for x in re.findall(r'<tr data-client-id="(\d+)"', page)]
    link = LIST_LINK.search(page).group(1).replace("&amp;", "&")
    assert f"sort={sort}" in link or sort == "created_at"
    response = owner.get(link)
    rows = rows_of(response.get_data())[1:]
    response.close()
    assert [r[0] for r in rows] == on_screen and len(rows) == 5
    if sort == "due_date":  # the empty due dates last, as on the screen
        assert [r[7] for r in rows][-3:] == [None, None, None]


def test_a_background_export_keeps_the_lists_sort(app, owner, factory, tenants, run_jobs):
    for n in range(55):  # over the suite's sync limit of 50 rows
        factory.client(tenants.a.id, trade_name=f"Empresa {n:02d}")
    query = "trade_name=empresa&sort=trade_name&dir=asc&per_page=100"
    on_screen = [
        int(x)
        for x in re.findall(
            r'<tr data-client-id="(\d+)"', owner.get(f"/reseller/clients?{query}").get_data(as_text=True)
        )
    ]
    confirm = owner.get("/reseller/clients/export.xlsx?trade_name=empresa&sort=trade_name&dir=asc")
    hidden = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', confirm.get_data(as_text=True))
    )
    assert hidden["sort"] == "trade_name" and hidden["dir"] == "asc"
    started = owner.post("/reseller/exports", {k: v for k, v in hidden.items() if k != "csrf_token"})
    assert started.status_code == 302
    run_jobs()
    with app.app_context():
        export_id = db.session.scalar(select(ExportJob.id))
    response = owner.get(f"/reseller/exports/{export_id}/download")
    exported = [r[0] for r in rows_of(response.get_data())[1:]]
    response.close()
    assert exported == on_screen
