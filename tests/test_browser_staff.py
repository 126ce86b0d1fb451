"""Browser test (issue 12): the owner invites a staff member, who accepts from the
e-mailed link, chooses a password and logs in with their role (seeing only what it
allows); then the owner widens the role and it applies on the staff member's next page."""

from __future__ import annotations

import re

import pytest

from auth import permissions as perm
from auth.models import Role
from core.extensions import db
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

NEW_PASSWORD = "uma frase longa e segura 2026"
LINK = re.compile(r"(https?://[^/\s]+)(/staff-invitation/\S+)")


def test_an_invited_member_accepts_logs_in_with_their_role_and_a_role_change_applies_next_request(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
    mailbox,
    run_jobs,
):
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    factory.client(reseller.id, trade_name="Padaria Central")
    factory.staff(reseller.id, [perm.CLIENTS, perm.PLANS], email="financeiro@a.test")
    with app.app_context():
        support = Role(reseller_id=reseller.id, name="Suporte", permissions=[perm.CLIENTS])
        db.session.add(support)
        db.session.commit()
        support_id = support.id

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")

    # The owner's nav has Staff and Roles; the invitation form.
    page.click("[data-nav=administration]")  # the set-up pages' menu
    page.click("nav a[href='/reseller/staff']")
    page.wait_for_url("**/reseller/staff")
    page.click("#invite-staff")
    page.wait_for_url("**/reseller/staff/invite")
    page.fill("#name", "Carla Suporte")
    page.fill("#email", "carla@exemplo.test")
    page.select_option("#role_id", str(support_id))
    page.screenshot(path=str(ARTIFACTS / "staff-invite.png"), full_page=True)
    page.click("#staff-form button[type=submit]")
    page.wait_for_url("**/reseller/staff")
    assert "Convite enviado para carla@exemplo.test" in page.content()
    row = page.locator("#staff-list tr", has_text="carla@exemplo.test")
    assert row.get_attribute("data-status") == "invited"
    assert "Suporte" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "staff-list.png"), full_page=True)

    # The e-mail: the reseller's brand, a link on its canonical host.
    run_jobs()
    message = mailbox.to("carla@exemplo.test")[-1]
    assert "Revenda Azul" in message["subject"] and "Revenda Azul" in message["text"]
    base, path = LINK.search(message["text"]).groups()
    assert base == "http://a.test"

    # Carla, in her own browser, accepts and chooses a password, then logs in.
    carla = page.context.browser.new_context(locale="pt-BR", viewport={"width": 1400, "height": 900})
    other = carla.new_page()
    other.goto(f"{live_server}{path}")
    assert "Revenda Azul" in other.content() and "Suporte" in other.content()
    other.screenshot(path=str(ARTIFACTS / "staff-accept.png"), full_page=True)
    other.fill("#password", NEW_PASSWORD)
    other.fill("#confirm", NEW_PASSWORD)
    other.click("#accept-invitation")
    other.wait_for_url("**/login")
    other.fill("#email", "carla@exemplo.test")
    other.fill("#password", NEW_PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_url("**/reseller/clients")
    assert "Padaria Central" in other.content()
    nav = other.locator("nav").first.inner_text()
    assert "Planos" not in nav and "Equipe" not in nav and "Perfis" not in nav
    assert other.goto(f"{live_server}/reseller/plans").status == 403
    assert other.goto(f"{live_server}/reseller/staff").status == 403

    # The owner sees her active and widens the Suporte role on the roles page.
    page.goto(f"{live_server}/reseller/staff")
    carla_row = page.locator("#staff-list tr", has_text="carla@exemplo.test")
    assert carla_row.get_attribute("data-status") == "active"
    assert "Proprietário" in page.locator("#staff-list tr", has_text="owner@a.test").inner_text()
    page.click("[data-nav=administration]")
    page.click("nav a[href='/reseller/roles']")
    page.wait_for_url("**/reseller/roles")
    page.screenshot(path=str(ARTIFACTS / "roles-list.png"), full_page=True)
    page.click(f"tr[data-role-id='{support_id}'] a:has-text('Editar')")
    page.wait_for_url(f"**/reseller/roles/{support_id}/edit")
    page.check("#role-permissions input[value='plans']")
    page.screenshot(path=str(ARTIFACTS / "role-form.png"), full_page=True)
    page.click("#role-form button[type=submit]")
    page.wait_for_url("**/reseller/roles")
    assert "Planos" in page.locator(f"tr[data-role-id='{support_id}']").inner_text()

    # Carla's next request has the new permission.
    assert other.goto(f"{live_server}/reseller/plans").status == 200
    assert "Planos" in other.locator("nav").first.inner_text()
    carla.close()
