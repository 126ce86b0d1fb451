"""Which reseller (and client) a request belongs to, and queries scoped to it.

The reseller is resolved once per request from the host; the client scope is set by
the auth layer when the current account is a client user. Tenant-owned models are
read only through these helpers, so another tenant's object is always a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import abort, current_app, g, has_request_context, request
from sqlalchemy import Select, bindparam, select
from werkzeug.local import LocalProxy

from core.extensions import db
from core.models import Reseller, ResellerHost
from core.scope import bypass, scoped
from core.validation import parse_int


def host_of_request() -> str:
    host = (request.host or "").lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def resolve_reseller(host: str) -> Reseller | None:
    """The reseller serving ``host``, else the configured default reseller."""
    reseller = _reseller_of_host(host)
    if reseller is None:
        default_host = current_app.config.get("DEFAULT_RESELLER_HOST")
        if default_host and default_host != host:
            reseller = _reseller_of_host(default_host)
    return reseller


# The reseller each host was last found to belong to, in this process. Only a guess to
# check: the lookup below runs in that reseller's own scope, where the policies show its
# hosts only, so a host that moved since is simply not found there (then the bypass).
_HOST_GUESSES: dict[str, int] = {}
_MAX_HOST_GUESSES = 1024


# The row as it is now, even when this session read it before (a test's session lives
# across its requests): what the request decides from it (the plans token) must be true.
_OF_HOST = (
    select(Reseller)
    .join(ResellerHost)
    .where(ResellerHost.host == bindparam("host"))
    .execution_options(populate_existing=True)
)
_OF_HOST_AND_RESELLER = _OF_HOST.where(ResellerHost.reseller_id == bindparam("reseller_id"))


@dataclass(frozen=True)
class HostCompanion:
    """What a package above reads in the host's own statement, so that a request's first
    reads are one round trip (auth: the session of the request's cookie).

    ``wanted()`` gives the statement's extra parameters when there is something to read
    in this request (else None); ``extend(statement)`` adds the columns (built once, with
    the reseller's row in scope as ``Reseller``); ``receive(columns)`` takes them, found
    or not. It runs only in the reseller's own scope (a guessed host that is still
    that reseller's), never under the bypass."""

    wanted: Callable[[], dict | None]
    extend: Callable[[Select], Select]
    receive: Callable[[Sequence], None]


_COMPANION: list = [None, None]  # [HostCompanion, its statement once built]


def register_host_companion(companion: HostCompanion) -> None:
    _COMPANION[:] = [companion, None]


def _with_companion(host: str, guess: int) -> Reseller | None | bool:
    """The host's reseller read with the companion's columns; False when the companion
    has nothing to read in this request."""
    companion, statement = _COMPANION
    params = companion.wanted() if companion is not None else None
    if params is None:
        return False
    if statement is None:
        statement = _COMPANION[1] = companion.extend(_OF_HOST_AND_RESELLER)
    with scoped(guess):
        row = db.session.execute(statement, {"host": host, "reseller_id": guess, **params}).first()
    if row is None:
        return None
    companion.receive(tuple(row)[1:])
    return row[0]


def _reseller_of_host(host: str, *, companion: bool = False) -> Reseller | None:
    guess = _HOST_GUESSES.get(host)
    if guess is not None:
        reseller = _with_companion(host, guess) if companion else False
        if reseller is False:
            # The same scope the request then runs in: no switch of role or settings later.
            with scoped(guess):
                reseller = db.session.scalar(_OF_HOST_AND_RESELLER, {"host": host, "reseller_id": guess})
        if reseller is not None:
            return reseller
    with bypass("host-resolution"):
        reseller = db.session.scalar(_OF_HOST, {"host": host})
    if reseller is not None:
        if len(_HOST_GUESSES) >= _MAX_HOST_GUESSES:
            _HOST_GUESSES.clear()
        _HOST_GUESSES[host] = reseller.id
    else:
        _HOST_GUESSES.pop(host, None)
    return reseller


def reseller_id_of_host(host: str) -> int | None:
    """The reseller a host is registered to, whichever it is (hosts are unique across
    resellers, so a reseller adding one must know whether another holds it)."""
    with bypass("host-resolution"):
        return db.session.scalar(select(ResellerHost.reseller_id).where(ResellerHost.host == host))


def load_request_reseller() -> None:
    g.client_scope_id = None
    g.host_is_resellers = False
    g.scope_request = request._get_current_object()  # the database scope follows g (core.scope)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    g.tenantless = request.endpoint == "static" or getattr(view, "is_tenantless", False)
    if g.tenantless:
        g.reseller = None
        return
    host = host_of_request()
    g.reseller = _reseller_of_host(host, companion=True)
    g.host_is_resellers = g.reseller is not None
    if g.reseller is None:
        g.reseller = resolve_reseller(host)


def host_is_resellers() -> bool:
    """Whether the request's host is one of the current reseller's own hosts (not the
    default reseller answering for a host nobody registered). Anonymous requests that
    would send mail (password reset, the locked-login link) send nothing otherwise."""
    return bool(g.get("host_is_resellers")) if has_request_context() else False


def _get_current_reseller() -> Reseller | None:
    if not has_request_context():
        return None
    return g.get("reseller")


current_reseller: Reseller = LocalProxy(_get_current_reseller)  # type: ignore[assignment]


def require_reseller() -> Reseller:
    reseller = _get_current_reseller()
    if reseller is None:
        abort(404)
    return reseller


def set_client_scope(client_id: int | None) -> None:
    """Called by the auth layer: the current account only sees this client's rows."""
    g.client_scope_id = client_id


def client_scope_id() -> int | None:
    return g.get("client_scope_id") if has_request_context() else None


def scoped_select(model, *columns, reseller_id: int | None = None, client_id: int | None = None):
    """``select`` of a tenant-owned model limited to the current reseller (and client).

    Soft-deleted rows (``deleted_at`` set) are never returned.
    """
    rid = reseller_id if reseller_id is not None else require_reseller().id
    stmt = select(*columns) if columns else select(model)
    stmt = stmt.where(model.reseller_id == rid)
    cid = client_id if client_id is not None else client_scope_id()
    if cid is not None and hasattr(model, "client_id"):
        stmt = stmt.where(model.client_id == cid)
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    return stmt


def get_or_404(model, object_id, *, client_id: int | None = None, for_update: bool = False):
    """Load a tenant-owned object of the current tenant (and of ``client_id``, when
    given: staff have no client scope of their own), or answer 404."""
    object_id = parse_int(object_id, min=1)
    if object_id is None:
        abort(404)
    stmt = scoped_select(model, client_id=client_id).where(model.id == object_id)
    if for_update:
        stmt = stmt.with_for_update()
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


# --- the client of the workspace (set by the tenant package's workspace guard) ---------


def set_current_client(client) -> None:
    g.client = client


def _get_current_client():
    if not has_request_context():
        return None
    return g.get("client")


# The client whose workspace the request is in (``None`` outside the workspace).
current_client = LocalProxy(_get_current_client)
