"""The reseller's settings (issue 12): brand and contacts, logo and favicon (limits and
SVG sanitising), hosts with the DNS check (a fake resolver at the network boundary),
the canonical address of e-mailed links, and each security setting honoured."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

import pytest
import time_machine
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from auth import permissions as perm
from auth.models import AuthSession
from billing.tasks import sweep_deadlines
from core import branding
from core.extensions import db
from core.mail import build_message
from core.models import AuditEvent, Reseller, ResellerHost
from core.timeutil import utcnow
from reseller import brand_files
from reseller import branding as reseller_branding
from reseller.deletion import purge_delay
from reseller.hosts import DnsAnswer
from tests.test_billing_deadlines import open_invoice

EDGE = "edge.platform.test"


def reseller_row(app, reseller_id: int) -> Reseller:
    with app.app_context():
        row = db.session.get(Reseller, reseller_id)
        db.session.expunge(row)
        return row


def owner(make_browser, host="a.test", email="owner@a.test"):
    browser = make_browser(host)
    browser.login(email)
    return browser


BRAND = {
    "name": "Marca Nova",
    "primary_color": "#ffcc00",
    "support_email": "ajuda@marca.test",
    "support_phone": "(11) 3333-4444",
    "support_whatsapp": "11 98765-4321",
    "mail_sender_name": "Equipe Marca Nova",
}


def png(width: int, height: int, colour=(200, 30, 30)) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def upload(browser, kind: str, data: bytes, name: str, **fields):
    # Encoded in memory: the test client's own encoding spools a large file to a
    # temporary file it never closes (a ResourceWarning, an error under this suite).
    body = {**BRAND, **fields, kind: FileStorage(BytesIO(data), filename=name), "csrf_token": browser.csrf()}
    stream, _length, boundary = stream_encode_multipart(body, use_tempfile=False)
    return browser.http.post(
        browser.url("/reseller/settings"),
        data=stream.getvalue(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


# --- brand and contacts -------------------------------------------------------------------


def test_brand_and_contacts_are_saved_audited_and_shown_on_the_login_page(
    app, factory, tenants, make_browser
):
    staff = owner(make_browser)
    assert staff.get("/reseller/settings").status_code == 200
    saved = staff.post("/reseller/settings", BRAND)
    assert saved.status_code == 302
    row = reseller_row(app, tenants.a.id)
    assert (row.name, row.primary_color, row.support_email) == ("Marca Nova", "#ffcc00", "ajuda@marca.test")
    assert (row.support_phone, row.support_whatsapp) == ("+551133334444", "+5511987654321")
    assert row.mail_sender_name == "Equipe Marca Nova"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reseller.brand_changed"))
        assert event.details["name"] == {"before": "Reseller A", "after": "Marca Nova"}

    login = make_browser().get("/login").get_data(as_text=True)
    assert "Marca Nova" in login
    # The support contacts, for clients who cannot log in; and in the workspace.
    assert 'href="mailto:ajuda@marca.test"' in login and 'href="https://wa.me/5511987654321"' in login
    assert 'href="tel:+551133334444"' in login
    # The colour as Bootstrap's variables, with black text on yellow (readable).
    assert "--bs-primary: #ffcc00;" in login and "--bs-primary-rgb: 255, 204, 0;" in login
    assert "--brand-text: #000000;" in login and ".btn-primary { --bs-btn-color: #000000;" in login
    # Links on white need contrast: a yellow primary's links are a darker shade.
    link = re.search(r"--bs-link-color: (#[0-9a-f]{6});", login).group(1)
    assert link != "#ffcc00"
    factory.user(tenants.a.client.id, email="gente@alpha.test")
    user = make_browser()
    user.login("gente@alpha.test")
    workspace = user.get("/app/").get_data(as_text=True)
    assert 'id="support-contacts"' in workspace and "ajuda@marca.test" in workspace


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("primary_color", "red", "#rrggbb"),
        ("primary_color", "#12345g", "#rrggbb"),
        ("support_email", "not-an-email", "e-mail"),
        ("support_phone", "123", "DDD"),
        ("support_whatsapp", "abc", "DDD"),
        ("mail_sender_name", 'Evil" <x@evil.test>', "quotes"),
        ("name", "", "required"),
        ("payment_instructions", "x" * 2001, "2000"),
    ],
)
def test_bad_brand_input_gets_a_message_and_changes_nothing(
    app, tenants, make_browser, field, value, message
):
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    refused = staff.post("/reseller/settings", {**BRAND, field: value})
    assert refused.status_code == 200
    assert message in refused.get_data(as_text=True)
    assert reseller_row(app, tenants.a.id).name == "Reseller A"


# --- logo and favicon -------------------------------------------------------------------


def test_a_large_png_logo_is_resized_and_served_with_a_versioned_immutable_url(app, tenants, make_browser):
    staff = owner(make_browser)
    assert upload(staff, "logo", png(2400, 800), "logo.png").status_code == 302
    row = reseller_row(app, tenants.a.id)
    assert row.logo_type == "image/png" and row.logo_version
    url = f"/brand/logo/{row.logo_version}"
    anonymous = make_browser()
    assert url in anonymous.get("/login").get_data(as_text=True)
    served = anonymous.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert Image.open(BytesIO(served.data)).size == (600, 200)
    assert (
        "immutable" in served.headers["Cache-Control"]
        and "max-age=31536000" in served.headers["Cache-Control"]
    )
    assert anonymous.get(url, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    # Another reseller's host never serves it, nor does an old version.
    assert make_browser("b.test").get(url).status_code == 404
    assert anonymous.get("/brand/logo/0123456789abcdef").status_code == 404
    assert anonymous.get(f"/brand/other/{row.logo_version}").status_code == 404


def test_a_favicon_is_shrunk_to_64_pixels_and_linked_from_every_page(app, tenants, make_browser):
    staff = owner(make_browser)
    assert upload(staff, "favicon", png(300, 300), "icon.png").status_code == 302
    row = reseller_row(app, tenants.a.id)
    assert f'<link rel="icon" href="/brand/favicon/{row.favicon_version}"' in make_browser().get(
        "/login"
    ).get_data(as_text=True)
    served = make_browser().get(f"/brand/favicon/{row.favicon_version}")
    assert Image.open(BytesIO(served.data)).size == (64, 64)


def test_uploads_over_1_mb_or_not_images_are_refused_and_change_nothing(app, tenants, make_browser):
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    too_big = png(10, 10) + b"\0" * (brand_files.MAX_BYTES + 1)
    refused = upload(staff, "logo", too_big, "big.png")
    assert refused.status_code == 200 and "larger than 1 MB" in refused.get_data(as_text=True)
    refused = upload(staff, "logo", b"GIF89a....", "x.gif")
    assert "PNG, JPEG or SVG" in refused.get_data(as_text=True)
    refused = upload(staff, "logo", b"\x89PNG\r\n\x1a\nnot really", "broken.png")
    assert "could not be read" in refused.get_data(as_text=True)
    row = reseller_row(app, tenants.a.id)
    assert row.logo_version is None and row.name == "Reseller A"  # the brand fields were not saved either


HOSTILE_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     viewBox="0 0 120 40" onload="alert(1)">
  <script>alert('x')</script>
  <style>@import url(https://evil.test/x.css);</style>
  <foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.test"/></foreignObject>
  <a href="javascript:alert(1)"><text x="0" y="20">click</text></a>
  <image href="https://evil.test/track.png" width="10" height="10"/>
  <use xlink:href="https://evil.test/sprite.svg#icon"/>
  <rect width="120" height="40" fill="url(https://evil.test/paint)" onclick="steal()"/>
  <circle cx="20" cy="20" r="10" fill="#1f6f5c" style="stroke: #000"/>
  <use xlink:href="#dot"/>
</svg>"""


def test_an_svg_logo_loses_scripts_event_handlers_and_external_references(app, tenants, make_browser):
    staff = owner(make_browser)
    assert upload(staff, "logo", HOSTILE_SVG, "logo.svg").status_code == 302
    row = reseller_row(app, tenants.a.id)
    served = make_browser().get(f"/brand/logo/{row.logo_version}")
    assert served.mimetype == "image/svg+xml"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    svg = served.get_data(as_text=True)
    for bad in (
        "<script",
        "onload",
        "onclick",
        "evil.test",
        "javascript:",
        "foreignObject",
        "iframe",
        "@import",
    ):
        assert bad not in svg, bad
    # What was safe is kept, internal references included.
    assert 'viewBox="0 0 120 40"' in svg and 'fill="#1f6f5c"' in svg and 'href="#dot"' in svg


@pytest.mark.parametrize(
    "svg",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&lol2;</svg>',
        b"<svg><unclosed></svg>",
        b'<html><svg xmlns="http://www.w3.org/2000/svg"/></html>',
    ],
)
def test_svgs_with_entities_or_that_are_not_svg_are_refused(svg):
    with pytest.raises(brand_files.FileRefused):
        brand_files.prepare("logo", svg)


def test_removing_the_logo_brings_back_the_default_mark(app, tenants, make_browser):
    staff = owner(make_browser)
    upload(staff, "logo", png(100, 50), "logo.png")
    version = reseller_row(app, tenants.a.id).logo_version
    staff.post("/reseller/settings", {**BRAND, "remove_logo": "y"})
    assert reseller_row(app, tenants.a.id).logo_version is None
    assert make_browser().get(f"/brand/logo/{version}").status_code == 404
    assert "bi-chat-dots-fill" in make_browser().get("/login").get_data(as_text=True)


# --- hosts, DNS and the canonical address ---------------------------------------------------


class FakeDns:
    """The DNS, at the one boundary reseller.hosts asks it through."""

    def __init__(self, records: dict[str, DnsAnswer]):
        self.records = records
        self.asked: list[str] = []

    def __call__(self, host: str) -> DnsAnswer:
        self.asked.append(host)
        return self.records.get(host, DnsAnswer())


@pytest.fixture
def fake_dns(app):
    fake = FakeDns({EDGE: DnsAnswer(addresses=frozenset({"203.0.113.10"}))})
    app.extensions["dns_resolver"] = fake
    app.config["PLATFORM_CNAME_TARGET"] = EDGE
    yield fake
    app.extensions.pop("dns_resolver", None)
    app.config["PLATFORM_CNAME_TARGET"] = None


def host_id(app, host: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ResellerHost.id).where(ResellerHost.host == host))


def test_hosts_page_gives_the_cname_instruction_and_adds_a_valid_unique_host(
    app, tenants, make_browser, fake_dns
):
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    page = staff.get("/reseller/settings/hosts").get_data(as_text=True)
    assert "CNAME" in page and EDGE in page
    bad = staff.post("/reseller/settings/hosts", {"host": "not a host!"})
    assert bad.status_code == 422 and "is not a valid host name" in bad.get_data(as_text=True)
    taken = staff.post("/reseller/settings/hosts", {"host": "B.test"})
    assert taken.status_code == 422 and "already in use by another account" in taken.get_data(as_text=True)
    mine = staff.post("/reseller/settings/hosts", {"host": "a.test"})
    assert "already one of your hosts" in mine.get_data(as_text=True)
    assert staff.post("/reseller/settings/hosts", {"host": "Ajuda.Marca.test."}).status_code == 302
    assert staff.post("/reseller/settings/hosts", {"host": "atenção.com.br"}).status_code == 302  # IDN
    with app.app_context():
        hosts = set(
            db.session.scalars(select(ResellerHost.host).where(ResellerHost.reseller_id == tenants.a.id))
        )
    assert hosts == {"a.test", "ajuda.marca.test", "xn--ateno-dra1a.com.br"}
    # The new host serves reseller A at once.
    assert "Reseller A" in make_browser("ajuda.marca.test").get("/login").get_data(as_text=True)


def test_the_dns_check_says_whether_the_host_points_to_us(app, tenants, make_browser, fake_dns):
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    for host in ("cname.marca.test", "apex.test", "elsewhere.test"):
        staff.post("/reseller/settings/hosts", {"host": host})
    fake_dns.records["cname.marca.test"] = DnsAnswer(cnames=(EDGE,), addresses=frozenset({"203.0.113.10"}))
    fake_dns.records["apex.test"] = DnsAnswer(addresses=frozenset({"203.0.113.10"}))
    fake_dns.records["elsewhere.test"] = DnsAnswer(
        cnames=("parking.test",), addresses=frozenset({"198.51.100.1"})
    )
    for host, expected in (
        ("cname.marca.test", "points to us"),
        ("apex.test", "points to us"),
        ("elsewhere.test", "does not point to us yet"),
        ("a.test", "does not point to us yet"),
    ):
        page = staff.get(f"/reseller/settings/hosts/{host_id(app, host)}/check").get_data(as_text=True)
        assert f"{host} {expected}" in page, host
    assert "parking.test" in staff.get(
        f"/reseller/settings/hosts/{host_id(app, 'elsewhere.test')}/check"
    ).get_data(as_text=True)
    assert "elsewhere.test" in fake_dns.asked


def test_removing_the_host_in_use_asks_for_confirmation_and_the_canonical_one_is_kept(
    app, tenants, make_browser, fake_dns
):
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    staff.post("/reseller/settings/hosts", {"host": "ajuda.marca.test"})
    # a.test is the canonical host (e-mailed links): it cannot go.
    refused = staff.post(f"/reseller/settings/hosts/{host_id(app, 'a.test')}/remove")
    assert refused.status_code == 302 and host_id(app, "a.test")
    assert (
        staff.post(
            "/reseller/settings/hosts/canonical", {"canonical_url": "https://ajuda.marca.test"}
        ).status_code
        == 302
    )
    # Now it may go, but it is the host this browser uses: asked once more.
    asked = staff.post(f"/reseller/settings/hosts/{host_id(app, 'a.test')}/remove")
    assert asked.status_code == 409 and "You are using a.test right now" in asked.get_data(as_text=True)
    assert host_id(app, "a.test")
    done = staff.post(f"/reseller/settings/hosts/{host_id(app, 'a.test')}/remove", {"confirm": "y"})
    assert done.status_code == 302 and host_id(app, "a.test") is None
    # The last host can never be removed.
    last = owner(make_browser, "ajuda.marca.test")
    last.post(f"/reseller/settings/hosts/{host_id(app, 'ajuda.marca.test')}/remove", {"confirm": "y"})
    assert host_id(app, "ajuda.marca.test")


def test_the_canonical_address_must_be_one_of_the_resellers_hosts(app, tenants, make_browser):
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    for value, message in (
        ("https://b.test", "one of your hosts"),
        ("ftp://a.test", "https://host"),
        ("https://a.test/path", "https://host"),
    ):
        refused = staff.post("/reseller/settings/hosts/canonical", {"canonical_url": value})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), value
    assert reseller_row(app, tenants.a.id).canonical_url == "http://a.test"


def test_an_svg_logo_stays_out_of_emails_which_show_the_name_instead(
    app, tenants, make_browser, mailbox, run_jobs
):
    staff = owner(make_browser)
    assert upload(staff, "logo", HOSTILE_SVG, "logo.svg").status_code == 302
    make_browser().post("/password/forgot", {"email": "owner@a.test"})
    run_jobs()
    [message] = mailbox.to("owner@a.test")
    html = message["html"]
    assert "<img" not in html and "/brand/logo/" not in html
    assert reseller_row(app, tenants.a.id).name in html


def test_in_production_the_canonical_address_is_https_only(app, tenants, make_browser, monkeypatch):
    monkeypatch.setitem(app.config, "PREFERRED_URL_SCHEME", "https")
    staff = owner(make_browser)
    staff.post("/lang", {"lang": "en"})
    staff.post("/reseller/settings/hosts", {"host": "ajuda.marca.test"})
    refused = staff.post("/reseller/settings/hosts/canonical", {"canonical_url": "http://ajuda.marca.test"})
    assert refused.status_code == 422 and "https://host" in refused.get_data(as_text=True)
    assert reseller_row(app, tenants.a.id).canonical_url == "http://a.test"
    done = staff.post("/reseller/settings/hosts/canonical", {"canonical_url": "https://ajuda.marca.test"})
    assert done.status_code == 302
    assert reseller_row(app, tenants.a.id).canonical_url == "https://ajuda.marca.test"


def test_emails_use_the_canonical_address_the_sender_name_and_the_brand(
    app, tenants, make_browser, mailbox, run_jobs
):
    staff = owner(make_browser)
    upload(staff, "logo", png(300, 100), "logo.png")
    staff.post("/reseller/settings/hosts", {"host": "ajuda.marca.test"})
    staff.post("/reseller/settings/hosts/canonical", {"canonical_url": "https://ajuda.marca.test:8443"})
    run_jobs()
    # The owners hear of the change of every e-mailed link's address.
    [notice] = mailbox.to("owner@a.test")
    assert "http://a.test" in notice["text"] and "https://ajuda.marca.test:8443" in notice["text"]
    mailbox.clear()
    version = reseller_row(app, tenants.a.id).logo_version
    make_browser().post("/password/forgot", {"email": "owner@a.test"})
    run_jobs()
    [message] = mailbox.to("owner@a.test")
    assert "https://ajuda.marca.test:8443/password/" in message["text"]
    assert "a.test/password" not in message["text"].replace("marca.test", "")
    assert message["from_header"] == "Equipe Marca Nova <no-reply@localhost>"
    assert message["reply_to"] == "ajuda@marca.test"
    html = message["html"]
    assert "background:#ffcc00;color:#000000" in html
    assert f'src="https://ajuda.marca.test:8443/brand/logo/{version}"' in html
    assert 'href="https://ajuda.marca.test:8443/password/' in html and "Marca Nova" in html


# --- security settings --------------------------------------------------------------------


SECURITY = {
    "require_staff_2fa": "y",
    "ask_code": "first_login",
    "staff_idle_minutes": "30",
    "staff_session_hours": "12",
    "user_idle_days": "14",
    "user_session_days": "30",
    "grace_days": "5",
    "purge_delay_hours": "",
    "audit_retention_months": "12",
}


def save_security(browser, **changes):
    values = {**SECURITY, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    return browser.post("/reseller/settings/security", values)


def test_a_new_reseller_requires_staff_two_step_and_asks_the_code_on_first_login_only(app, runner_app):
    command = "resellers create --name Nova --host nova.test --owner-email dono@nova.test"
    result = runner_app.invoke(args=command.split())
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalar(select(Reseller).where(Reseller.name == "Nova"))
        assert row.require_staff_2fa is True and row.code_on_every_new_browser is False
        assert (row.staff_idle_minutes, row.staff_session_hours, row.purge_delay_hours) == (30, 12, None)


def test_staff_two_step_required_on_then_off(app, tenants, make_browser):
    staff = owner(make_browser)
    page = staff.get("/reseller/settings/security").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="first_login"', page)
    assert save_security(staff).status_code == 302
    assert reseller_row(app, tenants.a.id).require_staff_2fa is True
    asked = make_browser().post(
        "/login", {"email": "owner@a.test", "password": "correct horse battery staple 42"}
    )
    assert asked.headers["Location"] == "/login/2fa/setup"
    save_security(staff, require_staff_2fa=None)
    assert reseller_row(app, tenants.a.id).require_staff_2fa is False
    assert make_browser().login("owner@a.test").headers["Location"] == "/reseller/clients"


def test_code_on_every_new_browser_or_first_login_only(app, factory, tenants, make_browser):
    factory.user(tenants.a.client.id, email="gente@alpha.test")  # verified: past its first login
    staff = owner(make_browser)
    save_security(staff, require_staff_2fa=None, ask_code="new_browser")
    assert reseller_row(app, tenants.a.id).code_on_every_new_browser is True
    assert make_browser().login("gente@alpha.test").headers["Location"] == "/login/code"
    save_security(staff, require_staff_2fa=None, ask_code="first_login")
    assert make_browser().login("gente@alpha.test").headers["Location"] == "/app/"


def test_staff_idle_limit_ends_a_session_sooner_and_the_absolute_limit_is_shorter(app, tenants, make_browser):
    staff = owner(make_browser)
    save_security(staff, require_staff_2fa=None, staff_idle_minutes="10", staff_session_hours="2")
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        fresh = make_browser()
        fresh.login("owner@a.test")
        with app.app_context():
            row = db.session.scalars(select(AuthSession).order_by(AuthSession.id.desc())).first()
            assert row.expires_at - row.created_at == timedelta(hours=2)
        clock.shift(timedelta(minutes=9))
        assert fresh.get("/reseller/clients").status_code == 200
        clock.shift(timedelta(minutes=11))  # idle 11 minutes: beyond this reseller's 10
        assert fresh.get("/reseller/clients").status_code == 302


def test_client_user_session_length_follows_the_reseller(app, factory, tenants, make_browser):
    factory.user(tenants.a.client.id, email="gente@alpha.test")
    save_security(owner(make_browser), require_staff_2fa=None, user_session_days="3")
    make_browser().login("gente@alpha.test")
    with app.app_context():
        row = db.session.scalars(select(AuthSession).order_by(AuthSession.id.desc())).first()
        assert row.expires_at - row.created_at == timedelta(days=3)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("staff_idle_minutes", "31"),  # the platform's maximum is 30
        ("staff_session_hours", "13"),
        ("user_idle_days", "15"),
        ("user_session_days", "31"),
        ("grace_days", "-1"),
        ("purge_delay_hours", "37"),  # the cap that keeps the 48-hour promise is 36
        ("staff_idle_minutes", ""),
        ("grace_days", "abc"),
    ],
)
def test_security_numbers_beyond_the_platforms_limits_are_refused(app, tenants, make_browser, field, value):
    staff = owner(make_browser)
    refused = save_security(staff, **{field: value})
    assert refused.status_code == 200
    assert "is-invalid" in refused.get_data(as_text=True)
    row = reseller_row(app, tenants.a.id)
    assert (row.staff_idle_minutes, row.grace_days, row.purge_delay_hours) == (30, 5, None)


def test_grace_days_set_by_the_reseller_drive_the_overdue_suspension(app, factory, tenants, make_browser):
    assert save_security(owner(make_browser), require_staff_2fa=None, grace_days="2").status_code == 302
    client = factory.client(tenants.a.id, trade_name="Atrasada")
    open_invoice(app, client.id, date(2026, 11, 10))
    with app.app_context():
        sweep_deadlines(date(2026, 11, 11))
        assert sweep_deadlines(date(2026, 11, 12))["suspended"] == 0  # the 2nd day still counts
        assert sweep_deadlines(date(2026, 11, 13))["suspended"] == 1  # the default 5 would wait


def delay_of(app, reseller_id: int) -> timedelta:
    with app.app_context():
        return purge_delay(db.session.get(Reseller, reseller_id))


def test_purge_delay_is_the_resellers_within_the_cap(app, factory, tenants, make_browser):
    staff = owner(make_browser)
    assert save_security(staff, require_staff_2fa=None, purge_delay_hours="6").status_code == 302
    assert delay_of(app, tenants.a.id) == timedelta(hours=6)
    client = factory.client(tenants.a.id, trade_name="Apagar")
    staff.post("/lang", {"lang": "en"})
    page = staff.get(f"/reseller/clients/{client.id}/delete").get_data(as_text=True)
    assert re.search(r"\b6 hours\b", page), page
    save_security(staff, require_staff_2fa=None, purge_delay_hours="")
    assert delay_of(app, tenants.a.id) == timedelta(hours=app.config["CLIENT_PURGE_DELAY_HOURS"])
    with app.app_context():
        db.session.get(Reseller, tenants.a.id).purge_delay_hours = 500  # edited by hand
        db.session.commit()
    assert delay_of(app, tenants.a.id) == timedelta(hours=36)


# --- who may, CSRF, other tenants, branded pages ----------------------------------------------

ROUTES = ("/reseller/settings", "/reseller/settings/security", "/reseller/settings/hosts")


def test_staff_without_the_staff_and_settings_permission_get_403(app, factory, tenants, make_browser):
    clerk = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="clerk@a.test")
    browser = make_browser()
    browser.login(clerk.email)
    for path in ROUTES:
        assert browser.get(path).status_code == 403, path
        assert browser.post(path, {**BRAND, **SECURITY, "host": "x.test"}).status_code == 403, path
    a_host = host_id(app, "a.test")
    assert browser.get(f"/reseller/settings/hosts/{a_host}/check").status_code == 403
    assert browser.post(f"/reseller/settings/hosts/{a_host}/remove", {"confirm": "y"}).status_code == 403
    assert (
        browser.post("/reseller/settings/hosts/canonical", {"canonical_url": "http://a.test"}).status_code
        == 403
    )
    assert 'href="/reseller/settings"' not in browser.get("/reseller/clients").get_data(as_text=True)
    allowed = factory.staff(tenants.a.id, permissions=[perm.STAFF_SETTINGS], email="admin@a.test")
    admin = make_browser()
    admin.login(allowed.email)
    assert admin.get("/reseller/settings").status_code == 200


def test_only_owners_change_hosts_the_address_of_mailed_links_and_security(
    app, factory, tenants, make_browser, fake_dns
):
    # "Staff and settings" is not enough: whoever chooses the host of e-mailed links could
    # send the owners' password links to a domain of their own and take the account over.
    allowed = factory.staff(tenants.a.id, permissions=[perm.STAFF_SETTINGS], email="admin@a.test")
    admin = make_browser()
    admin.login(allowed.email)
    page = admin.get("/reseller/settings").get_data(as_text=True)
    assert "/reseller/settings/hosts" not in page and "/reseller/settings/security" not in page
    for path in ROUTES[1:]:
        assert admin.get(path).status_code == 403, path
        assert admin.post(path, {**SECURITY, "host": "attacker.example"}).status_code == 403, path
    assert (
        admin.post("/reseller/settings/hosts/canonical", {"canonical_url": "https://a.test"}).status_code
        == 403
    )
    a_host = host_id(app, "a.test")
    assert admin.get(f"/reseller/settings/hosts/{a_host}/check").status_code == 403
    assert admin.post(f"/reseller/settings/hosts/{a_host}/remove", {"confirm": "y"}).status_code == 403
    assert host_id(app, "attacker.example") is None
    assert reseller_row(app, tenants.a.id).canonical_url == "http://a.test"
    owner_browser = owner(make_browser)
    for path in ROUTES:
        assert owner_browser.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "169.254.169.254", "localhost", "demo.localhost", "login.plataforma.test"]
)
def test_addresses_and_platform_names_cannot_be_claimed(app, tenants, make_browser, fake_dns, host):
    app.config["PLATFORM_DOMAIN"] = "plataforma.test"
    try:
        staff = owner(make_browser)
        refused = staff.post("/reseller/settings/hosts", {"host": host})
    finally:
        app.config["PLATFORM_DOMAIN"] = None
    assert refused.status_code == 422
    assert host_id(app, host) is None


def test_a_reseller_has_at_most_twenty_hosts(app, tenants, make_browser, fake_dns):
    staff = owner(make_browser)
    for n in range(19):  # a.test is the first
        assert staff.post("/reseller/settings/hosts", {"host": f"h{n}.marca.test"}).status_code == 302
    refused = staff.post("/reseller/settings/hosts", {"host": "one-more.marca.test"})
    assert refused.status_code == 422 and host_id(app, "one-more.marca.test") is None


def test_settings_posts_without_a_csrf_token_are_refused(app, tenants, make_browser):
    staff = owner(make_browser)
    for path in (*ROUTES, "/reseller/settings/hosts/canonical"):
        assert staff.post(path, {**BRAND, **SECURITY, "host": "x.test"}, csrf=False).status_code == 400
    assert reseller_row(app, tenants.a.id).name == "Reseller A"


def test_another_resellers_hosts_are_404(app, tenants, make_browser, fake_dns):
    staff = owner(make_browser)
    b_host = host_id(app, "b.test")
    assert staff.get(f"/reseller/settings/hosts/{b_host}/check").status_code == 404
    assert staff.post(f"/reseller/settings/hosts/{b_host}/remove", {"confirm": "y"}).status_code == 404
    assert host_id(app, "b.test") == b_host
    assert fake_dns.asked == []


def test_error_pages_and_the_outbox_carry_the_hosts_reseller_brand(app, tenants, make_browser):
    owner(make_browser, "b.test", "owner@b.test").post("/reseller/settings", {**BRAND, "name": "Beta Marca"})
    anonymous = make_browser("b.test")
    for path in ("/no-such-page", "/dev/outbox"):
        page = anonymous.get(path).get_data(as_text=True)
        assert "Beta Marca" in page and "--bs-primary: #ffcc00;" in page, path
        assert "Reseller A" not in page
    page = make_browser().get("/no-such-page").get_data(as_text=True)
    assert "Reseller A" in page and "--bs-primary: #0d6efd;" in page


@pytest.mark.parametrize(
    ("colour", "text"),
    [
        ("#0d6efd", "#ffffff"),
        ("#ffcc00", "#000000"),
        ("#1b7f3a", "#ffffff"),
        ("#f8f9fa", "#000000"),
        ("#000000", "#ffffff"),
    ],
)
def test_the_text_on_the_primary_colour_stays_readable(colour, text):
    assert branding.text_on(colour) == text
    assert branding.contrast(colour, text) >= 4.5  # WCAG AA


def test_a_reseller_name_cannot_forge_the_sender_or_break_the_mail(app, tenants):
    forged = 'Acme" <security@bank.example>, "x'
    with app.test_request_context():
        message = build_message(
            {
                "to": ["someone@x.test"],
                "subject": "Código\r\nBcc: all@x.test",
                "text": "Oi",
                "sender_name": forged,
            }
        )
    sender = message["From"]
    assert [a.addr_spec for a in sender.addresses] == [app.config["MAIL_FROM"]]
    assert sender.addresses[0].display_name == forged
    assert message["Subject"] == "Código Bcc: all@x.test" and "Bcc" not in message
    with app.app_context():
        reseller = db.session.get(Reseller, tenants.a.id)
        for name, sender_name in (("Acme\nBcc: x@y.test", ""), ("Acme", "Equipe\\")):
            with pytest.raises(reseller_branding.SettingsRefused):
                reseller_branding.save_brand(
                    reseller,
                    name=name,
                    primary_color="#1f6f5c",
                    support_email="",
                    support_phone="",
                    support_whatsapp="",
                    mail_sender_name=sender_name,
                )
        db.session.rollback()


@pytest.mark.parametrize(
    "css",
    [
        "a{}<g/>@import url(https://evil.test/x.css)",  # text after a child element
        r"a{background:\75rl(https://evil.test/x)}",  # a CSS escape spelling url(
        r"@\69mport 'https://evil.test/x.css';",
        "a{background:image-set('https://evil.test/x.png' 1x)}",
    ],
)
def test_style_sheets_in_an_svg_cannot_fetch_anything_in_disguise(css):
    inline = css.replace("<g/>", "")
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><style>{css}</style><rect style="{inline}"/></svg>'
    cleaned = brand_files.sanitise_svg(svg.encode()).decode()
    assert "evil.test" not in cleaned and "<rect" in cleaned
