"""Terms of use, the rules (issue 15, portal.terms): versions numbered per reseller,
one acceptance per user and version with its IP and browser, a new version asked
again, another reseller's versions invisible, staff logged in as a user refused, and
hostile Markdown rendered inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from auth.models import Account, AuthSession, Login
from core.extensions import db
from core.models import AuditEvent
from portal import terms
from portal.markdown_html import render
from portal.models import MAX_BODY_CHARS, TermsAcceptance


def account(account_id: int) -> Account:
    return db.session.get(Account, account_id)


def owner(reseller_id: int) -> Account:
    return db.session.scalar(
        select(Account).join(Login).where(Account.reseller_id == reseller_id, Login.email.like("owner@%"))
    )


def session_of(user: Account, impersonator: Account | None = None) -> AuthSession:
    """The request's session as the rule reads it (the user's account, and the staff
    account behind it while logged in as the user)."""
    return AuthSession(
        account=user, impersonator_account_id=impersonator.id if impersonator is not None else None
    )


def acceptance_count() -> int:
    return db.session.scalar(select(func.count(TermsAcceptance.id)))


def test_versions_are_numbered_per_reseller(ctx, tenants):
    a, b = tenants.a, tenants.b
    first = terms.publish(a.id, "# Termos\n\nVersão um.", owner(a.id))
    second = terms.publish(a.id, "# Termos\n\nVersão dois.", owner(a.id))
    other = terms.publish(b.id, "# Terms of B", owner(b.id))
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert terms.current_version(a.id).id == second.id
    assert [v.number for v, _count in terms.versions(a.id)] == [2, 1]
    assert second.published_by_account_id == owner(a.id).id


def test_publishing_is_audited_with_the_numbers_before_and_after(ctx, tenants):
    a = tenants.a
    terms.publish(a.id, "Um", owner(a.id))
    terms.publish(a.id, "Dois", owner(a.id))
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "terms.published").order_by(AuditEvent.id)
    ).all()
    assert [(e.details["before"], e.details["after"]) for e in events] == [(None, 1), (1, 2)]
    assert {e.reseller_id for e in events} == {a.id}


@pytest.mark.parametrize(
    "body",
    ["", "   \n\t  ", "x" * (MAX_BODY_CHARS + 1)],
    ids=["empty", "blank", "over the limit"],
)
def test_empty_or_oversized_terms_are_refused_with_a_message_and_nothing_written(ctx, tenants, body):
    with pytest.raises(terms.TermsRejected) as refused:
        terms.publish(tenants.a.id, body, owner(tenants.a.id))
    assert str(refused.value)
    db.session.rollback()
    assert terms.current_version(tenants.a.id) is None
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "terms.published"))
        == 0
    )


def test_the_longest_terms_allowed_are_published(ctx, tenants):
    version = terms.publish(tenants.a.id, "x" * MAX_BODY_CHARS, owner(tenants.a.id))
    assert len(version.body) == MAX_BODY_CHARS


def test_the_same_text_again_is_not_a_new_version(ctx, tenants):
    terms.publish(tenants.a.id, "# Termos\n\nTexto.", owner(tenants.a.id))
    with pytest.raises(terms.TermsRejected):
        terms.publish(tenants.a.id, "# Termos\r\n\r\nTexto.  \n", owner(tenants.a.id))


def test_an_acceptance_is_recorded_once_with_ip_and_browser(ctx, factory, tenants):
    user = account(factory.user(tenants.a.client.id).id)
    version = terms.publish(tenants.a.id, "Termos", owner(tenants.a.id))
    assert terms.pending_version(user).id == version.id
    agent = "Mozilla/5.0 " + "x" * 400
    first = terms.accept(session_of(user), version, ip="203.0.113.9", user_agent=agent)
    again = terms.accept(session_of(user), version, ip="198.51.100.1", user_agent="other")
    assert again.id == first.id
    row = db.session.scalars(select(TermsAcceptance)).one()
    assert (row.account_id, row.login_id, row.client_id, row.version_id) == (
        user.id,
        user.login_id,
        tenants.a.client.id,
        version.id,
    )
    assert row.ip == "203.0.113.9"
    assert row.user_agent == agent[:300]
    assert row.accepted_at is not None
    assert terms.pending_version(user) is None
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "terms.accepted")).all()
    assert [(e.object_id, e.client_id, e.details["version"]) for e in audited] == [
        (str(row.id), tenants.a.client.id, 1)
    ]


def test_a_new_version_must_be_accepted_again(ctx, factory, tenants):
    user = account(factory.user(tenants.a.client.id).id)
    first = terms.publish(tenants.a.id, "Versão 1", owner(tenants.a.id))
    terms.accept(session_of(user), first, ip="127.0.0.1", user_agent="test")
    assert not terms.must_accept(user)
    second = terms.publish(tenants.a.id, "Versão 2", owner(tenants.a.id))
    assert terms.pending_version(user).id == second.id
    terms.accept(session_of(user), second, ip="127.0.0.1", user_agent="test")
    assert not terms.must_accept(user)
    assert acceptance_count() == 2


def test_without_published_terms_nobody_is_asked(ctx, factory, tenants):
    user = account(factory.user(tenants.a.client.id).id)
    assert terms.current_version(tenants.a.id) is None
    assert not terms.must_accept(user)


def test_staff_never_accept_terms(ctx, tenants):
    terms.publish(tenants.a.id, "Termos", owner(tenants.a.id))
    assert not terms.must_accept(owner(tenants.a.id))
    with pytest.raises(terms.AcceptanceRefused):
        terms.accept(
            session_of(owner(tenants.a.id)), terms.current_version(tenants.a.id), ip=None, user_agent=None
        )
    assert acceptance_count() == 0


def test_another_resellers_versions_are_invisible(ctx, factory, tenants):
    user_a = account(factory.user(tenants.a.client.id).id)
    b_version = terms.publish(tenants.b.id, "Termos de B", owner(tenants.b.id))
    assert terms.current_version(tenants.a.id) is None
    assert terms.get_version(tenants.a.id, b_version.id) is None
    assert terms.versions(tenants.a.id) == []
    assert not terms.must_accept(user_a)
    with pytest.raises(terms.AcceptanceRefused):
        terms.accept(session_of(user_a), b_version, ip="127.0.0.1", user_agent="test")
    assert acceptance_count() == 0


def test_staff_logged_in_as_the_user_cannot_accept_and_nothing_is_recorded(ctx, factory, tenants):
    user = account(factory.user(tenants.a.client.id).id)
    version = terms.publish(tenants.a.id, "Termos", owner(tenants.a.id))
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(terms.AcceptanceRefused):
        terms.accept(
            session_of(user, impersonator=owner(tenants.a.id)), version, ip="10.0.0.1", user_agent="x"
        )
    assert acceptance_count() == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert terms.must_accept(user)


def test_the_acceptance_list_pages_through_who_accepted(ctx, factory, tenants):
    version = terms.publish(tenants.a.id, "Termos", owner(tenants.a.id))
    for i in range(3):
        user = account(factory.user(tenants.a.client.id, email=f"u{i}@alpha.test", name=f"Pessoa {i}").id)
        terms.accept(session_of(user), version, ip=f"10.0.0.{i}", user_agent="x")
    page = terms.acceptances(version, page=1, per_page=2)
    assert (page.total, page.pages, len(page.rows)) == (3, 2, 2)
    last = terms.acceptances(version, page=9, per_page=2)
    assert last.page == 2 and len(last.rows) == 1
    everyone = terms.acceptances(version).rows
    assert {(r.client, r.email, r.ip) for r in everyone} == {
        ("Alpha A", f"u{i}@alpha.test", f"10.0.0.{i}") for i in range(3)
    }


HOSTILE = """# Termos

<script>alert('x')</script>
<img src=x onerror="alert(1)">
<a href="javascript:alert(1)">clique</a>
[link](javascript:alert(1)) [outro](JaVaScRiPt:alert(1)) [dados](data:text/html;base64,PHNjcmlwdD4=)
[vb](vbscript:msgbox(1)) [tab](java\tscript:alert(1))
![rastreio](https://evil.test/pixel.png) ![protocolo](//evil.test/pixel.png)
<iframe src="https://evil.test"></iframe><style>body{display:none}</style>
<div onclick="alert(1)" style="position:fixed">x</div>
- [site](https://exemplo.test/termos)
"""


class Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_hostile_markdown_is_rendered_inert():
    html = str(render(HOSTILE))
    parser = Elements()
    parser.feed(html)
    tags = {tag for tag, _attrs in parser.found}
    assert tags <= {"h1", "p", "a", "img", "ul", "li"}, tags
    for tag, attrs in parser.found:
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").replace("\t", "").lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:")), (tag, attrs)
        if tag == "img":
            assert "src" not in attrs, attrs  # another host's image: its source is dropped
        if tag == "a":
            assert attrs["rel"] == "noopener noreferrer nofollow"
    # Raw HTML shows as text, never as markup.
    assert "&lt;script&gt;alert" in html
    assert '<a href="https://exemplo.test/termos" rel="noopener noreferrer nofollow">site</a>' in html
    assert "<h1>Termos</h1>" in html


def test_an_image_on_this_site_is_kept():
    assert '<img src="/static/app/favicon.svg" alt="logo">' in str(render("![logo](/static/app/favicon.svg)"))
