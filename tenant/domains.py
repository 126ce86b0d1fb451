"""A client's e-mail domains (seed 003): the only writer of ``client_domains``, and the
linking of logins to the client of their e-mail's domain.

- A client has several domains; a domain belongs to at most one client of a reseller
  (another reseller may give the same domain to a client of its own). Public webmail
  (``tenant.webmail``: the packaged list, Brazilian providers, the reseller's overrides)
  is never a client's domain.
- Domains are stored by :func:`normalise_domain` (lower-case punycode, no ``www.``).
  A subdomain is a domain of its own, and an address at a subdomain of a client's domain
  belongs to that client unless the subdomain is another client's (the longest wins).
- A deleted client (awaiting its purge) owns its domains until the purge removes them
  with it, but receives nobody: :func:`client_of_domain` leaves it out, and adding its
  domain to another client is refused until then. An inactivated (archived) client keeps
  its domains and still receives the logins of its domain, so mail from a known company
  never creates a second client for it.
- Adding a domain offers to link the reseller's existing *unlinked* logins of that domain
  (:func:`unlinked_logins`); they become users only when staff confirm
  (:func:`link_logins`). A login that holds a staff account is never offered nor linked.

Every change is audited with before and after.
"""

from __future__ import annotations

import contextlib

from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from auth import identity
from auth.models import CLIENT_USER, STAFF, Account, Login
from core import audit
from core.extensions import db
from core.paging import Page
from core.validation import clean_email
from tenant import users
from tenant.domain_models import ClientDomain
from tenant.domain_names import (
    DomainRejected,
    display_domain,
    domain_of_email,
    normalise_domain,
    parent_domains,
)
from tenant.models import Client, fold
from tenant.webmail import is_webmail

__all__ = [
    "DomainRejected",
    "add_domain",
    "client_of_domain",
    "display_domain",
    "domain_of_email",
    "domains_of",
    "is_webmail",
    "link_by_domain",
    "link_logins",
    "list_domains",
    "move_domain",
    "normalise_domain",
    "remove_domain",
    "unlinked_logins",
]

# The most unlinked logins one preview lists (and one confirmation links).
MAX_PREVIEW = 500


def _row_of(reseller_id: int, domain: str) -> ClientDomain | None:
    return db.session.scalar(
        select(ClientDomain).where(ClientDomain.reseller_id == reseller_id, ClientDomain.domain == domain)
    )


def domains_of(client: Client) -> list[ClientDomain]:
    """The client's domains, alphabetically."""
    return list(
        db.session.scalars(
            select(ClientDomain)
            .where(ClientDomain.reseller_id == client.reseller_id, ClientDomain.client_id == client.id)
            .order_by(ClientDomain.domain)
        )
    )


def client_of_domain(reseller_id: int, domain: str) -> Client | None:
    """The (not deleted) client of the reseller whose domain ``domain`` is, or that owns
    the nearest parent of it (``sp.empresa.com.br`` -> the client of ``empresa.com.br``
    unless ``sp.empresa.com.br`` is another client's); ``None`` when nobody's."""
    try:
        candidates = parent_domains(normalise_domain(domain))
    except DomainRejected:
        return None
    rows = db.session.execute(
        select(ClientDomain.domain, Client)
        .join(Client, Client.id == ClientDomain.client_id)
        .where(
            ClientDomain.reseller_id == reseller_id,
            ClientDomain.domain.in_(candidates),
            Client.deleted_at.is_(None),
        )
    ).all()
    if not rows:
        return None
    return max(rows, key=lambda row: len(row.domain))[1]


def _refuse_taken(existing: ClientDomain) -> None:
    owner = db.session.get(Client, existing.client_id)
    if owner is None or owner.deleted_at is not None:
        raise DomainRejected(
            _(
                "%(domain)s belongs to a client being deleted: it is free once the deletion ends.",
                domain=existing.domain,
            )
        )
    raise DomainRejected(
        _(
            "%(domain)s already belongs to the client %(client)s.",
            domain=existing.domain,
            client=owner.trade_name,
        )
    )


def _check_target(client: Client, domain: str) -> None:
    if client.deleted_at is not None:
        raise DomainRejected(_("This client is being deleted."))
    if is_webmail(client.reseller_id, domain):
        raise DomainRejected(
            _("%(domain)s is public webmail (like gmail.com): it cannot be a client's domain.", domain=domain)
        )


def add_domain(client: Client, domain: str, *, actor: Account | None) -> ClientDomain:
    """Give ``client`` the domain (normalised here); returns its row.

    Idempotent for the same client. Refused (``DomainRejected``) for webmail, for a
    domain of another client of the reseller (the message names it) and for a deleted
    client. ``actor`` is the staff account (``None``: the system, e.g. a client created
    from an e-mail).
    """
    domain = normalise_domain(domain)
    _check_target(client, domain)
    existing = _row_of(client.reseller_id, domain)
    if existing is not None:
        if existing.client_id == client.id:
            return existing
        _refuse_taken(existing)
    row = ClientDomain(
        reseller_id=client.reseller_id,
        client_id=client.id,
        domain=domain,
        created_by_account_id=actor.id if actor is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # Another transaction gave it to a client between our check and our insert.
        existing = _row_of(client.reseller_id, domain)
        if existing is not None and existing.client_id == client.id:
            return existing
        if existing is not None:
            _refuse_taken(existing)
        raise
    audit.record(
        "client_domain.added",
        row,
        details={"domain": domain, "before": None, "after": {"client_id": client.id}},
    )
    return row


def move_domain(domain_row: ClientDomain, new_client: Client, *, actor: Account | None) -> ClientDomain:
    """Give the domain to another client of the same reseller (its users stay where they are)."""
    if new_client.reseller_id != domain_row.reseller_id:
        raise DomainRejected(_("Choose a client of this reseller."))
    _check_target(new_client, domain_row.domain)
    before = domain_row.client_id
    if before == new_client.id:
        return domain_row
    domain_row.client_id = new_client.id
    domain_row.client = new_client
    db.session.flush()
    audit.record(
        "client_domain.moved",
        domain_row,
        details={
            "domain": domain_row.domain,
            "before": {"client_id": before},
            "after": {"client_id": new_client.id},
        },
    )
    return domain_row


def remove_domain(domain_row: ClientDomain, *, actor: Account | None) -> None:
    """Take the domain from its client (its users stay users of the client)."""
    audit.record(
        "client_domain.removed",
        domain_row,
        details={"domain": domain_row.domain, "before": {"client_id": domain_row.client_id}, "after": None},
    )
    db.session.delete(domain_row)
    db.session.flush()


def list_domains(reseller_id: int, query: str = "", page: int = 1, per_page: int = 25) -> Page:
    """One page of the reseller's domains with their clients (``(ClientDomain, Client)``
    rows), by domain; ``query`` matches the domain or the client's trade or legal name."""
    stmt = (
        select(ClientDomain, Client)
        .join(Client, Client.id == ClientDomain.client_id)
        .where(ClientDomain.reseller_id == reseller_id, Client.deleted_at.is_(None))
    )
    query = (query or "").strip()
    if query:
        needles = {query.lower()}
        with contextlib.suppress(DomainRejected):
            needles.add(normalise_domain(query))
        folded = fold(query)
        stmt = stmt.where(
            or_(
                *(ClientDomain.domain.contains(n, autoescape=True) for n in needles),
                Client.trade_name_search.contains(folded, autoescape=True),
                Client.legal_name_search.contains(folded, autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        stmt.order_by(ClientDomain.domain, ClientDomain.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows=list(rows), total=total, page=page, per_page=per_page)


def _linked_somewhere():
    """A login that has an active client-user account in a client that is not deleted."""
    return (
        select(Account.id)
        .join(Client, Client.id == Account.client_id)
        .where(
            Account.login_id == Login.id,
            Account.kind == CLIENT_USER,
            Account.active.is_(True),
            Client.deleted_at.is_(None),
        )
    )


def _staff_login():
    return select(Account.id).where(Account.login_id == Login.id, Account.kind == STAFF)


def unlinked_logins(reseller_id: int, domain: str) -> list[Login]:
    """The reseller's logins with an e-mail at ``domain`` (exactly) that are an active user
    of no client and hold no staff account: the "existing unlinked users" a new domain
    offers to link. At most :data:`MAX_PREVIEW`, by e-mail."""
    domain = normalise_domain(domain)
    return list(
        db.session.scalars(
            select(Login)
            .where(
                Login.reseller_id == reseller_id,
                or_(
                    *(
                        Login.email.endswith("@" + form, autoescape=True)
                        for form in {domain, display_domain(domain)}
                    )
                ),
                ~exists(_linked_somewhere()),
                ~exists(_staff_login()),
            )
            .order_by(Login.email)
            .limit(MAX_PREVIEW)
        )
    )


def _name_for(login: Login) -> str:
    """The name the login last went by in an account, else its e-mail's local part."""
    name = db.session.scalar(
        select(Account.name).where(Account.login_id == login.id).order_by(Account.id.desc()).limit(1)
    )
    return (name or login.email.split("@", 1)[0])[:120]


def link_logins(client: Client, login_ids, *, actor: Account) -> list[Account]:
    """Make each of ``login_ids`` a user of ``client`` with the default permissions of
    seed 002 (through ``tenant.users.add_user_to_client``, which audits each one).

    Only logins still unlinked at one of the client's domains are linked; other ids are
    ignored (a form cannot attach anybody else). Returns the accounts created.
    """
    wanted = {int(i) for i in login_ids}
    offered = {
        login.id: login
        for row in domains_of(client)
        for login in unlinked_logins(client.reseller_id, row.domain)
        if login.id in wanted
    }
    accounts = []
    for login in sorted(offered.values(), key=lambda login: login.email):
        account, _outcome = users.add_user_to_client(
            client, actor=actor, name=_name_for(login), email=login.email
        )
        accounts.append(account)
    if accounts:
        audit.record(
            "client_domain.logins_linked",
            client,
            details={"login_ids": [a.login_id for a in accounts], "count": len(accounts)},
        )
    return accounts


def link_by_domain(reseller_id: int, email: str, name: str) -> Account | None:
    """The user, in the client of the e-mail's domain, of this sender: created with the
    default permissions (chat level 6, may view phones) and no password when it is new.

    ``None`` when the address is not valid, its domain is webmail or nobody's, the login
    is a staff member's, or its user in that client was deactivated (nobody is
    reactivated by an e-mail). Sends nothing; audited as ``client_user.linked_by_domain``.
    """
    address = clean_email(email or "")
    domain = domain_of_email(address) if address else None
    if domain is None or is_webmail(reseller_id, domain):
        return None
    client = client_of_domain(reseller_id, domain)
    if client is None:
        return None
    login = identity.find_login(reseller_id, address)
    if login is not None:
        if db.session.scalar(select(exists(_staff_login().where(Login.id == login.id)))):
            return None
        existing = db.session.scalar(
            select(Account).where(Account.login_id == login.id, Account.client_id == client.id)
        )
        if existing is not None:
            return existing if existing.active else None
    display = " ".join((name or "").split())[:120] or address.split("@", 1)[0][:120]
    account = identity.add_client_user(
        reseller_id=reseller_id, client_id=client.id, email=address, name=display
    )
    audit.record(
        "client_user.linked_by_domain",
        account,
        details={"domain": domain, "client_id": client.id},
    )
    return account
