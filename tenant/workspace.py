"""The workspace guard: before every workspace request (the tenant blueprint, billing's
subscription pages and the portal's), client users only, their live client as
``current_client``, the gates registered by the packages above (``tenant.hooks``: terms
of use to accept first), and a client without an active plan kept on its subscription
page."""

from __future__ import annotations

from flask import abort, g, redirect, request, url_for

from auth import permissions as perm
from auth.access import current_account
from core.tenancy import require_reseller, set_current_client
from tenant import hooks
from tenant.models import Client
from tenant.states import ClientStatus

# The subscription page (billing's blueprint) stays open to a client without a plan.
SUBSCRIPTION_ENDPOINT = "subscription.page"
# Where staff who open the workspace are sent (the reseller panel's client list).
STAFF_HOME_ENDPOINT = "reseller.clients"


def workspace_client() -> Client:
    """The current user's client, of this reseller, neither deleted nor inactivated; else
    404. Read with the session, in the request's first statement (``auth.session_loader``
    loads the account with its client): no statement of its own."""
    client = current_account.client
    if (
        client is None
        or client.reseller_id != require_reseller().id
        or client.deleted_at is not None
        or client.inactivated_at is not None
    ):
        abort(404)
    return client


def subscription_only(client: Client) -> bool:
    """A client without an active plan sees only its subscription page, unless staff
    acting as the user may handle clients without a plan."""
    if client.status == ClientStatus.ACTIVE:
        return False
    actor = g.auth_session.impersonator if g.get("auth_session") is not None else None
    return not (
        actor is not None and actor.role is not None and actor.role.grants(perm.HANDLE_CLIENTS_WITHOUT_PLAN)
    )


def workspace_guard():
    """Before every workspace request: see the module's docstring."""
    if current_account and current_account.is_staff:
        return redirect(url_for(STAFF_HOME_ENDPOINT))
    if not current_account:
        return None  # the login check answers
    client = workspace_client()
    set_current_client(client)
    g.subscription_only = subscription_only(client)
    if hooks.is_gate_page(request.endpoint):
        return None  # a gate's own page (the terms to accept) is open while it waits
    answer = hooks.workspace_gate()
    if answer is not None:
        return answer
    if g.subscription_only and request.blueprint != "subscription":
        if request.method != "GET":
            abort(403)
        return redirect(url_for(SUBSCRIPTION_ENDPOINT))
    return None
