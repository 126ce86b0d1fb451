"""Browser test (issue 15): the client's dashboard and reports draw their charts with the
vendored Chart.js under the app's Content-Security-Policy (no inline script, nothing
refused in the console), each chart beside the table it is drawn from; a report's XLSX
downloads from its button."""

from __future__ import annotations

import pytest

from tests.portal_reports_setup import scenario
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_the_charts_are_drawn_from_their_tables_and_a_report_downloads(
    app,
    factory,
    tenants,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    with app.app_context():
        scenario(factory, tenants)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, live_server, "boss@alpha.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/portal")
    page.wait_for_selector(".report-chart canvas")
    # The per-day line, the statuses' doughnut and the desks' bars.
    assert page.locator(".report-chart canvas").count() == 3
    assert page.locator(".report-chart + details, .report-chart + .report-table").count() >= 1
    assert page.locator("#dashboard-opened").inner_text().endswith("5")
    page.screenshot(path=str(ARTIFACTS / "portal-dashboard.png"), full_page=True)

    page.goto(f"{live_server}/app/reports?group=week")
    page.wait_for_selector(".report-chart canvas")
    assert page.locator(".report-chart canvas").count() == 8
    page.screenshot(path=str(ARTIFACTS / "portal-reports.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#section-desks a:has-text('XLSX')")
    assert download.value.suggested_filename.startswith(
        "desks-"
    ) and download.value.suggested_filename.endswith(".xlsx")
    assert problems == []
