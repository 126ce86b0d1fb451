"""The tenancy scope of the database work in progress, and PostgreSQL's second wall.

Application code scopes its queries itself (``core.tenancy.scoped_select``). On
PostgreSQL, row-level security checks it once more (migrations 0011 and 0016,
``migrations/tenancy.py``). The application connects as the owner of the tables and, in
each transaction, switches to one of three roles that own nothing, so their policies
apply, and sets ``app.reseller_id`` / ``app.client_id`` / ``app.bypass``:

- ``DATABASE_RUNTIME_ROLE`` (``revenda_app``): a reseller's scope, ``reseller_id = <setting>``;
- the same with ``_client``: a client user's scope, narrowed to one client where the row has one;
- the same with ``_bypass``: a named bypass, every row while ``app.bypass`` names it.

Each policy is a plain equality, which the planner folds into the query's own predicate
(a one-time check per query, no cost per row).

The scope comes from, in this order:

1. an explicit scope entered in this request (or job, or command): :func:`scoped` or
   :func:`bypass`;
2. the request: its reseller and, in the workspace, its client (``core.tenancy``
   resolves them);
3. a command-line command (``flask ...``): the ``cli`` bypass, as the owner;
4. otherwise (no request, no job, no command: an operator's script, a release step)
   the ``script`` bypass.

Jobs always run in an explicit scope (``core.jobs`` captures it when they are queued),
so the tenant code a request or a job runs is always behind the wall.

Every bypass has a name from :data:`BYPASSES`, so a reviewer reads them in one place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from weakref import WeakKeyDictionary

import click
import psycopg
from flask import g, has_request_context, request
from psycopg import pq
from psycopg.pq import TransactionStatus
from sqlalchemy import event, inspect

# Every way round the tenancy wall, and why (grep ``bypass(``, ``bypass=`` and
# ``runs_under(`` for the places). bypass() refuses any other name.
BYPASSES: dict[str, str] = {
    "host-resolution": "finding the reseller of a request's host, before any reseller is known",
    "tenantless-view": "views that belong to no reseller (static files, the Stripe webhook receiver)",
    "stripe-inbox": "the Stripe inbox drain and sweep: events name their client, any reseller's",
    "billing-deadlines": "overdue invoices, suspension and period roll-over of every reseller",
    "billing-consistency": "the daily check of the clients' billing summaries, every reseller",
    "client-purge-sweep": "purges of deleted clients whose deadline passed, every reseller",
    "mail-intake": "the inbound mail inbox: a message is stored before anyone knows whose it "
    "is, and its processing (job and sweep) routes it by recipient to any reseller's desk",
    "desk-addresses": "a desk's intake address or its domain already answered by another "
    "reseller's desk (only whether one exists is read)",
    "sla-sweep": "tickets of every reseller whose SLA clock becomes expiring or breached: "
    "refreshed and their staff notified",
    "review-sweep": "tickets of every reseller whose client review time passed: accepted by "
    "themselves and their requesters e-mailed the rating links",
    "audit-retention": "audit events of every reseller past its retention deleted, and expired "
    "audit exports' files removed",
    "api-idempotency": "answers kept for the API's Idempotency-Key past their lifetime, every "
    "reseller's API clients",
    "whatsapp-inbox": "the WhatsApp webhook: the channel an event names is found by its phone "
    "number id (any reseller's) to check the signature with its secret; the events' drain and "
    "sweep (each event then applied in its own client's scope), and the sweep of received files "
    "whose download failed or was lost",
    "whatsapp-sends": "the sweep of every reseller's WhatsApp messages whose sending is due "
    "again (a try met a rate limit or a server error)",
    "whatsapp-templates": "the periodic sync of every reseller's connected WhatsApp channels' "
    "message templates (each channel then synced in its own client's scope)",
    "previous-release-job": "jobs queued by the previous release, which carried no scope",
    "cli": "flask commands run by an operator (seeds, the platform commands)",
    "script": "code outside any request, job or command: a release or operator script, the "
    "benchmarks, threads a test starts",
    "migrations": "alembic migrations, as the owner of the tables",
    "tests": "the test suite's own set-up and assertions, outside requests",
}


@dataclass(frozen=True)
class Scope:
    """What the database work in progress may see."""

    reseller_id: int | None = None
    client_id: int | None = None
    bypass: str | None = None
    # Run as the connecting user (the tables' owner), not the runtime role.
    as_owner: bool = False
    # The request this scope was entered in (None: outside any request).
    owner_request: object = field(default=None, compare=False)

    def encode(self) -> str:
        """A short string for a job's arguments (see :func:`decode`)."""
        if self.bypass:
            return f"bypass:{self.bypass}"
        return f"tenant:{self.reseller_id or ''}:{self.client_id or ''}"

    @classmethod
    def decode(cls, text: str | None) -> Scope:
        if not text:
            return cls(bypass="previous-release-job")
        kind, _, rest = text.partition(":")
        if kind == "bypass":
            _check_name(rest)
            return cls(bypass=rest)
        reseller, _, client = rest.partition(":")
        return cls(reseller_id=int(reseller) if reseller else None, client_id=int(client) if client else None)


NOTHING = Scope()
_SCOPE: ContextVar[Scope | None] = ContextVar("tenancy_scope", default=None)


def _check_name(name: str) -> None:
    if name not in BYPASSES:
        raise ValueError(f"unknown tenancy bypass {name!r}: declare it in core.scope.BYPASSES")


def _this_request():
    return request._get_current_object() if has_request_context() else None


@contextlib.contextmanager
def entered(scope: Scope):
    here = Scope(scope.reseller_id, scope.client_id, scope.bypass, scope.as_owner, _this_request())
    token = _SCOPE.set(here)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def scoped(reseller_id: int | None, client_id: int | None = None):
    """``with scoped(reseller_id):`` the rows of one reseller (and client) only."""
    return entered(Scope(reseller_id=reseller_id, client_id=client_id))


def bypass(name: str, *, as_owner: bool = False):
    """``with bypass("stripe-inbox"):`` every reseller's rows; ``name`` from BYPASSES."""
    _check_name(name)
    return entered(Scope(bypass=name, as_owner=as_owner))


def current_scope() -> Scope:
    explicit = _SCOPE.get()
    this_request = _this_request()
    # A request the application resolved (core.tenancy), not a bare test_request_context
    # some job or command pushed to build a URL: that keeps the scope it runs in.
    resolved = this_request is not None and g.get("scope_request") is this_request
    if explicit is not None and (not resolved or explicit.owner_request is this_request):
        return explicit
    if resolved:
        if g.get("tenantless"):
            return Scope(bypass="tenantless-view")
        reseller = g.get("reseller")
        # Its identity, not reseller.id: an expired object would reload here, recursively.
        identity = inspect(reseller).identity if reseller is not None else None
        reseller_id = identity[0] if identity else None
        return Scope(reseller_id=reseller_id, client_id=g.get("client_scope_id"))
    if click.get_current_context(silent=True) is not None:
        return Scope(bypass="cli", as_owner=True)
    return Scope(bypass="script")


# --- applying the scope on PostgreSQL ---------------------------------------------------

_APPLIED = "tenancy_scope_applied"
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "COMMIT")
# With the scope, no JIT: it pays off on long analytical queries; here it turned a 5 ms
# queue page whose estimate looked large into 150 ms of compilation. (Set here, not as a
# connection option, which transaction-mode poolers refuse.)
_SET_SCOPE = (
    "SELECT set_config('role', %s, %s), set_config('app.reseller_id', %s, %s), "
    "set_config('app.client_id', %s, %s), set_config('app.bypass', %s, %s), "
    "set_config('jit', 'off', %s)"
)


_BEGIN_IN_SCOPE = (
    b"BEGIN; SELECT set_config('role', %s, true), set_config('app.reseller_id', %s, true), "
    b"set_config('app.client_id', %s, true), set_config('app.bypass', %s, true), "
    b"set_config('jit', 'off', true)"
)


def _begin_in_scope(dbapi_connection, values: tuple[str, str, str, str], then: bytes = b""):
    """Open the transaction and set its scope in one round trip.

    psycopg opens a transaction by sending BEGIN and waiting for its answer before the
    first statement, so the scope alone cost two round trips a transaction, a tenth of a
    small page's time. Here both go in one simple-protocol message through libpq, the
    values as literals escaped by libpq; libpq then reports the transaction open, so
    psycopg sends no BEGIN of its own, and ends it (COMMIT, ROLLBACK) as usual.
    ``then``: one more statement in the same message (see :func:`begin_with`); the
    result of the last statement is returned."""
    pgconn = dbapi_connection.pgconn
    literals = tuple(literal(dbapi_connection, value) for value in values)
    result = pgconn.exec_(_BEGIN_IN_SCOPE % literals + (b"; " + then if then else b""))
    if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        raise psycopg.errors.error_from_result(result, encoding=dbapi_connection.info.encoding)
    return result


def literal(dbapi_connection, value: str) -> bytes:
    """``value`` as a quoted SQL literal, escaped by libpq for this connection."""
    return pq.Escaping(dbapi_connection.pgconn).escape_literal(value.encode())


def _role(scope: Scope, runtime_role: str | None) -> str:
    """The role a transaction runs as ("none": the connecting user, the tables' owner)."""
    if scope.as_owner or not runtime_role:
        return "none"
    if scope.bypass:
        return f"{runtime_role}_bypass"
    if scope.client_id is not None:
        return f"{runtime_role}_client"
    return runtime_role


def _wanted(runtime_role: str | None) -> tuple[tuple, tuple[str, str, str, str]]:
    """The current scope as the connection keeps it, and as ``set_config``'s values."""
    scope = current_scope()
    role = _role(scope, runtime_role)
    values = (
        role,
        "" if scope.reseller_id is None else str(scope.reseller_id),
        "" if scope.client_id is None else str(scope.client_id),
        scope.bypass or "",
    )
    return (role, scope.reseller_id, scope.client_id, scope.bypass), values


def install(engine, runtime_role: str | None) -> None:
    """Apply the current scope at the start of each transaction on ``engine`` and again
    whenever it changes, with ``set_config(..., true)`` (``SET LOCAL``)."""
    if engine.dialect.name != "postgresql":
        return  # SQLite keeps the application-level scoping only
    _RUNTIME_ROLES[engine] = runtime_role

    def before_cursor_execute(conn, _cursor, statement, _parameters, _context, _executemany):
        conn.info.pop(_ONE_MESSAGE, None)  # the transaction ran something else too
        if statement.startswith(_TRANSACTION_CONTROL):
            return  # reads no table (and after an error, the transaction accepts nothing else)
        wanted, values = _wanted(runtime_role)
        dbapi_connection = conn.connection.dbapi_connection
        # Outside a transaction block (AUTOCOMMIT) a local setting would end with this
        # very call: set it for the session, before every statement.
        local = not dbapi_connection.autocommit
        if local and conn.info.get(_APPLIED) == wanted:
            return
        if local and dbapi_connection.info.transaction_status == TransactionStatus.IDLE:
            _begin_in_scope(dbapi_connection, values)
        else:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(_SET_SCOPE, [*(v for value in values for v in (value, local)), local])
        conn.info[_APPLIED] = wanted if local else None

    def forget(conn, *_args) -> None:
        # The transaction (or savepoint) ended: what it set is gone with it.
        conn.info.pop(_APPLIED, None)
        conn.info.pop(_ONE_MESSAGE, None)

    def checked_in(_dbapi_connection, record) -> None:
        if record is not None:
            record.info.pop(_APPLIED, None)  # the pool ends (rolls back) what was left open
            record.info.pop(_ONE_MESSAGE, None)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, forget)
    event.listen(engine, "checkin", checked_in)


# --- a short transaction in two messages (the WhatsApp webhook's intake) -----------------
# Each statement through SQLAlchemy is a round trip of its own: BEGIN with the scope, a
# read, a write and COMMIT make four. A transaction that reads, decides in Python, then
# writes and commits needs two: BEGIN, the scope and the read in one message
# (begin_with), the write and COMMIT in the next (commit_with). Both send one simple-query
# message of statements whose values are literals escaped by libpq (:func:`literal`).

_RUNTIME_ROLES: WeakKeyDictionary = WeakKeyDictionary()
# Set by begin_with; cleared by any other statement and at the transaction's end.
_ONE_MESSAGE = "tenancy_opened_by_begin_with"


def begin_with(connection, query_of: Callable[[Callable[[str], bytes]], bytes]):
    """Open the transaction of ``connection`` (a SQLAlchemy connection on which the
    server has no transaction open yet) in the current scope and run the query
    ``query_of(literal)`` writes (``literal`` quotes a value for this connection) in the
    same message: its PGresult (text format). ``None`` where that cannot be done (SQLite,
    a transaction or savepoint already open, autocommit): the caller takes its plain path."""
    engine = connection.engine
    if engine not in _RUNTIME_ROLES or connection.in_nested_transaction():
        return None
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.autocommit or dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
        return None
    wanted, values = _wanted(_RUNTIME_ROLES[engine])
    result = _begin_in_scope(dbapi_connection, values, query_of(partial(literal, dbapi_connection)))
    connection.info[_APPLIED] = wanted
    connection.info[_ONE_MESSAGE] = True
    return result


def commit_with(session, statement_of: Callable[[Callable[[str], bytes]], bytes]) -> bool:
    """Run the statement ``statement_of(literal)`` writes (see :func:`begin_with`) and
    COMMIT in one message, then end ``session``'s transaction
    (its after-commit hooks: the jobs it queued) with no further round trip; only when
    that transaction was opened by :func:`begin_with` and ran nothing else since, and the
    session holds no change to flush (nothing its commit hooks would write after the
    COMMIT). ``False``, nothing done, otherwise: the caller takes its plain path."""
    if session.new or session.dirty or session.deleted or not session.in_transaction():
        return False
    connection = session.connection()
    if not connection.info.get(_ONE_MESSAGE) or connection.in_nested_transaction():
        return False
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.info.transaction_status != TransactionStatus.INTRANS:
        return False
    result = dbapi_connection.pgconn.exec_(statement_of(partial(literal, dbapi_connection)) + b"; COMMIT")
    if result.status != pq.ExecStatus.COMMAND_OK:
        # The statement failed: the COMMIT was not run; the transaction is rolled back
        # with the session as usual.
        raise psycopg.errors.error_from_result(result, encoding=dbapi_connection.info.encoding)
    if result.command_status != b"COMMIT":  # the server answered ROLLBACK
        raise psycopg.errors.InFailedSqlTransaction("the transaction was rolled back, not committed")
    session.commit()  # the server is idle: psycopg sends nothing, the session's hooks run
    return True
