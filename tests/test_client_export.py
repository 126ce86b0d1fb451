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
