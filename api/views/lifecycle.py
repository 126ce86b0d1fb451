"""``/api/v1/clients/{id}/...``: a client inactivated and reactivated, suspended and its
suspension lifted (with a reason), deleted in two steps (the warning with a confirmation
token, then the confirmation), all by the panel's rules (``api.lifecycle``)."""

from __future__ import annotations

from flask import g, jsonify

from api import client_pages, lifecycle
from api.conventions import iso
from api.idempotency import idempotent
from api.protection import require_scope
from api.schemas import (
    ClientSchema,
    DeletionConfirmSchema,
    DeletionSchema,
    ReasonSchema,
)
from api.states import ApiScope
from api.views.blueprints import IDEMPOTENCY, problems, security, v1, with_client
from tenant.models import Client

WRITE = ApiScope.CLIENTS_WRITE


def _client_answer(client: Client):
    return jsonify(client_pages.client_json(client))


def _documented(*statuses):
    """A POST of the lifecycle: the scope, the problems, the Idempotency-Key."""

    def decorator(view):
        view = v1.doc(parameters=[IDEMPOTENCY])(view)
        view = problems(400, 401, 403, 404, *statuses, 429)(view)
        return security(WRITE)(view)

    return decorator


@v1.route("/clients/<int:client_id>/inactivate", methods=["POST"], tags=["Clients"])
@_documented(409)
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.response(200, ClientSchema)
def client_inactivate(client: Client):
    """Archive the client (refused, 409, while it has open tickets or a plan)."""
    lifecycle.inactivate(client)
    return _client_answer(client)


@v1.route("/clients/<int:client_id>/reactivate", methods=["POST"], tags=["Clients"])
@_documented()
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.response(200, ClientSchema)
def client_reactivate(client: Client):
    """Bring an inactivated client back to the lists."""
    lifecycle.reactivate(client)
    return _client_answer(client)


@v1.route("/clients/<int:client_id>/suspend", methods=["POST"], tags=["Clients"])
@_documented(409, 422)
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.arguments(ReasonSchema)
@v1.response(200, ClientSchema)
def client_suspend(values, client: Client):
    """Suspend the client with a written reason (kept in its suspension history)."""
    lifecycle.suspend(client, values["reason"])
    return _client_answer(client)


@v1.route("/clients/<int:client_id>/lift-suspension", methods=["POST"], tags=["Clients"])
@_documented(409, 422)
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.arguments(ReasonSchema)
@v1.response(200, ClientSchema)
def client_lift_suspension(values, client: Client):
    """Lift the client's suspension with a written reason."""
    lifecycle.lift_suspension(client, values["reason"])
    return _client_answer(client)


@v1.route("/clients/<int:client_id>/deletion/confirm", methods=["POST"], tags=["Clients"])
@_documented(409, 422, 503)
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.arguments(DeletionConfirmSchema)
@v1.response(200, DeletionSchema)
def client_deletion_confirm(values, client: Client):
    """Delete the client with the token of ``DELETE /clients/{id}``: hidden everywhere at
    once, its users' sessions ended, its subscription cancelled, purged after the delay."""
    deletion = lifecycle.confirm_deletion(client, g.api_client_id, values["confirmation_token"])
    return jsonify(
        {
            "id": deletion.id,
            "client_id": deletion.client_id,
            "status": deletion.status,
            "requested_at": iso(deletion.requested_at),
            "purge_due_at": iso(deletion.purge_due_at),
            "counts": deletion.counts,
        }
    )
