"""A client's lifecycle through the API: inactivate and reactivate (``tenant.clients``),
suspend and lift the suspension (``billing.suspension``), delete in two steps
(``reseller.deletion``). The rules are the panel's; this only turns their refusals into
problems and holds the API's equivalent of the panel's e-mailed deletion code: a
confirmation token, short-lived, bound to the client, the reseller and the API client,
and spent by the deletion itself (it names how many deletions the client had)."""

from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from api.problems import Problem
from auth import codes
from billing import suspension
from billing.errors import BillingRejected
from billing.stripe.gateway import StripeUnavailable
from core import audit
from core.extensions import db
from core.models import Reseller
from reseller import deletion as deletion_rules
from reseller.models import ClientDeletion
from tenant import clients as client_rules
from tenant.models import Client

TOKEN_SALT = "api-client-deletion"  # noqa: S105 - a purpose, no secret
# As long as the panel's e-mailed code lives.
TOKEN_TTL = codes.CODE_TTL


def inactivate(client: Client) -> None:
    blockers = client_rules.inactivate_client(client)
    if blockers:
        db.session.rollback()
        raise Problem(
            409,
            "client_has_blockers",
            _(
                "%(name)s cannot be inactivated: %(reasons)s",
                name=client.trade_name,
                reasons=" ".join(blockers),
            ),
        )


def reactivate(client: Client) -> None:
    client_rules.reactivate_client(client)


def billing_action(action):
    """``action()``'s result; a billing rule's refusal as a problem (nothing changed)."""
    try:
        return action()
    except (BillingRejected, StripeUnavailable) as exc:
        db.session.rollback()
        param = getattr(exc, "param", None)
        if param is not None:
            raise Problem(422, "invalid_parameter", str(exc), param=param) from None
        status, code = (
            (503, "billing_unavailable") if isinstance(exc, StripeUnavailable) else (409, "conflict")
        )
        raise Problem(status, code, str(exc)) from None


def suspend(client: Client, reason: str) -> None:
    billing_action(lambda: suspension.manual_suspend(client, reason))


def lift_suspension(client: Client, reason: str) -> None:
    billing_action(lambda: suspension.manual_lift(client, reason))


# --- deleting: the warning with a confirmation token, then the confirmation ----------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _deletions_so_far(client: Client) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ClientDeletion)
        .where(ClientDeletion.client_id == client.id, ClientDeletion.reseller_id == client.reseller_id)
    )


def _claims(client: Client, api_client_id: int) -> list:
    return [client.reseller_id, client.id, api_client_id, _deletions_so_far(client)]


def deletion_warning(client: Client, api_client_id: int) -> dict:
    """What the deletion removes (the panel's warning) and the token that confirms it."""
    counts = deletion_rules.deletion_counts(client)
    reseller = db.session.get(Reseller, client.reseller_id)
    return {
        "client_id": client.id,
        "counts": counts,
        "labels": {key: str(label) for key, label in deletion_rules.COUNT_LABELS.items()},
        "kept_audit_entries": deletion_rules.kept_audit_entries(client),
        "purge_delay_hours": int(deletion_rules.purge_delay(reseller).total_seconds() // 3600),
        "confirmation_token": _serializer().dumps(_claims(client, api_client_id)),
        "expires_in": int(TOKEN_TTL.total_seconds()),
    }


def _check_token(client: Client, api_client_id: int, token: str) -> None:
    try:
        claims = _serializer().loads(token, max_age=int(TOKEN_TTL.total_seconds()))
    except SignatureExpired:
        raise Problem(
            422,
            "confirmation_token_expired",
            _("This confirmation token has expired; ask for a new one (DELETE the client again)."),
            param="confirmation_token",
        ) from None
    except BadSignature:
        claims = None
    if claims != _claims(client, api_client_id):
        # Another client's, another API client's, already spent, or not a token at all.
        raise Problem(
            422,
            "invalid_confirmation_token",
            _("This confirmation token is not valid for this client."),
            param="confirmation_token",
        )


def confirm_deletion(client: Client, api_client_id: int, token: str) -> ClientDeletion:
    """The panel's deletion (``reseller.deletion.delete_client``) once the token matches."""
    _check_token(client, api_client_id, token)
    try:
        return deletion_rules.delete_client(
            client, requested_by_account_id=None, requested_by_label=g.get("actor_label")
        )
    except deletion_rules.DeletionRefused as refused:
        db.session.rollback()
        # As the panel does: the refusal is kept in the client's audit trail.
        audit.record(
            "client.deletion_refused", db.session.get(Client, client.id), details={"reason": str(refused)}
        )
        db.session.commit()
        raise Problem(409, "deletion_refused", str(refused)) from None
