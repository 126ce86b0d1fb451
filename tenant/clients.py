"""Client rules: validation, create/update, inactivation and its preconditions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from auth import identity
from auth import permissions as perm
from auth.models import Account
from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import utcnow
from core.validation import clean_email
from tenant import documents, hooks
from tenant.models import DOCUMENT_TYPES, SLA_LEVELS, Client, CustomFieldDefinition, CustomFieldValue
from tenant.phones import digits, normalise_phone
from tenant.states import ClientStatus
from tenant.users import assignable_users

MAX_PHOTO_BYTES = 2 * 1024 * 1024
PHOTO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg", b"RIFF": "webp"}


class ClientRejected(ValueError):
    """Bad input: ``errors`` maps field names to messages; nothing was changed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ClientData:
    """The fields of the add/edit form, already stripped of surrounding blanks."""

    trade_name: str
    legal_name: str
    email: str
    document_type: str
    document: str
    sla_level: str = "standard"
    phone: str = ""
    postal_code: str = ""
    street: str = ""
    street_number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""
    responsible_email: str = ""
    responsible_name: str = ""
    responsible_account_id: int | None = None
    custom: dict[int, str] = field(default_factory=dict)


def active_custom_fields(reseller_id: int) -> list[CustomFieldDefinition]:
    return list(
        db.session.scalars(
            scoped_select(CustomFieldDefinition, reseller_id=reseller_id)
            .where(CustomFieldDefinition.active.is_(True))
            .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
        )
    )


def _validate(data: ClientData, reseller_id: int) -> dict:
    """Check every field; return the cleaned values or raise ClientRejected."""
    errors: dict[str, str] = {}
    cleaned: dict = {}
    required_text = {"trade_name": 120, "legal_name": 160}
    for name, limit in required_text.items():
        value = getattr(data, name)
        if not value:
            errors[name] = _("This field is required.")
        elif len(value) > limit:
            errors[name] = _("Use at most %(n)d characters.", n=limit)
        cleaned[name] = value

    cleaned["email"] = clean_email(data.email)
    if cleaned["email"] is None:
        errors["email"] = _("Enter a valid e-mail address.")

    if data.sla_level not in SLA_LEVELS:
        errors["sla_level"] = _("Choose a valid SLA level.")
    cleaned["sla_level"] = data.sla_level

    if data.document_type not in DOCUMENT_TYPES:
        errors["document_type"] = _("Choose CNPJ or CPF.")
    else:
        doc = digits(data.document)
        if data.document_type == "cnpj" and not documents.is_valid_cnpj(doc):
            errors["document"] = _("This CNPJ is not valid.")
        elif data.document_type == "cpf" and not documents.is_valid_cpf(doc):
            errors["document"] = _("This CPF is not valid.")
        cleaned["document_type"] = data.document_type
        cleaned["document"] = doc

    if data.phone:
        phone = normalise_phone(data.phone)
        if phone is None:
            errors["phone"] = _("Enter a phone number with area code, e.g. (11) 98765-4321.")
        cleaned["phone"] = phone
    else:
        cleaned["phone"] = None

    if data.postal_code:
        cep = digits(data.postal_code)
        if len(cep) != 8:
            errors["postal_code"] = _("A CEP has 8 digits.")
        cleaned["postal_code"] = cep
    else:
        cleaned["postal_code"] = None
    if data.state and data.state.upper() not in documents.UF:
        errors["state"] = _("Choose a valid state.")
    cleaned["state"] = data.state.upper() or None
    for name, limit in {
        "street": 160,
        "street_number": 20,
        "complement": 80,
        "district": 80,
        "city": 80,
    }.items():
        value = getattr(data, name)
        if len(value) > limit:
            errors[name] = _("Use at most %(n)d characters.", n=limit)
        cleaned[name] = value or None

    if data.responsible_email:
        cleaned["responsible_email"] = clean_email(data.responsible_email)
        if cleaned["responsible_email"] is None:
            errors["responsible_email"] = _("Enter a valid e-mail address.")
    if len(data.responsible_name) > 120:
        errors["responsible_name"] = _("Use at most %(n)d characters.", n=120)

    cleaned["custom"] = {}
    for definition in active_custom_fields(reseller_id):
        raw = (data.custom.get(definition.id) or "").strip()
        key = f"cf_{definition.id}"
        if not raw:
            if definition.required:
                errors[key] = _("This field is required.")
            continue
        if len(raw) > 500:
            errors[key] = _("Use at most %(n)d characters.", n=500)
        elif definition.field_type == "number":
            try:
                float(raw.replace(",", "."))
            except ValueError:
                errors[key] = _("Enter a number.")
        elif definition.field_type == "date":
            try:
                date.fromisoformat(raw)
            except ValueError:
                errors[key] = _("Enter a valid date.")
        elif definition.field_type == "select" and raw not in (definition.options or []):
            errors[key] = _("Choose one of the options.")
        cleaned["custom"][definition.id] = raw
    if errors:
        raise ClientRejected(errors)
    return cleaned


CLIENT_FIELDS = (
    "trade_name",
    "legal_name",
    "email",
    "sla_level",
    "document_type",
    "document",
    "phone",
    "postal_code",
    "street",
    "street_number",
    "complement",
    "district",
    "city",
    "state",
)


def _apply(client: Client, cleaned: dict) -> None:
    for name in CLIENT_FIELDS:
        setattr(client, name, cleaned[name])
    existing = {v.definition_id: v for v in client.custom_values}
    for definition_id, value in cleaned["custom"].items():
        if definition_id in existing:
            existing[definition_id].value = value
        else:
            client.custom_values.append(
                CustomFieldValue(reseller_id=client.reseller_id, definition_id=definition_id, value=value)
            )
    for definition_id, row in existing.items():
        if definition_id not in cleaned["custom"]:
            client.custom_values.remove(row)


def _make_responsible(client: Client, account) -> None:
    """``account`` answers for the client: it also gets the portal, its reports and
    every ticket of the client (issue 15), whatever else it holds."""
    client.responsible_account_id = account.id
    account.permissions = sorted(set(account.permissions or []) | set(perm.RESPONSIBLE_PERMISSIONS))


def create_client(reseller_id: int, data: ClientData, photo=None) -> Client:
    """Create a client and its responsible user (from the main e-mail when none given)."""
    cleaned = _validate(data, reseller_id)
    photo_path = _store_photo(reseller_id, photo) if photo else None
    client = Client(reseller_id=reseller_id, photo_path=photo_path)
    _apply(client, cleaned)
    db.session.add(client)
    db.session.flush()
    responsible_email = cleaned.get("responsible_email") or cleaned["email"]
    responsible_name = data.responsible_name or cleaned["trade_name"]
    account = identity.add_client_user(
        reseller_id=reseller_id,
        client_id=client.id,
        email=responsible_email,
        name=responsible_name,
    )
    _make_responsible(client, account)
    audit.record("client.created", client, details={"trade_name": client.trade_name})
    hooks.client_created(client)
    return client


def update_client(client: Client, data: ClientData, photo=None) -> Client:
    """Apply the edit form; the responsible user is one of the client's users."""
    cleaned = _validate(data, client.reseller_id)
    if data.responsible_account_id:
        account = next((a for a in assignable_users(client) if a.id == data.responsible_account_id), None)
        if account is None:
            raise ClientRejected({"responsible_account_id": _("Choose one of this client's users.")})
        _make_responsible(client, account)
    elif cleaned.get("responsible_email"):
        account = identity.add_client_user(
            reseller_id=client.reseller_id,
            client_id=client.id,
            email=cleaned["responsible_email"],
            name=data.responsible_name or cleaned["trade_name"],
        )
        _make_responsible(client, account)
    changed = [n for n in CLIENT_FIELDS if getattr(client, n) != cleaned[n]]
    _apply(client, cleaned)
    if photo:
        client.photo_path = _store_photo(client.reseller_id, photo)
        changed.append("photo")
    audit.record("client.updated", client, details={"fields": changed})
    return client


def _store_photo(reseller_id: int, upload) -> str:
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ClientRejected({"photo": _("The photo must be at most 2 MB.")})
    ext = next((e for sig, e in PHOTO_SIGNATURES.items() if data.startswith(sig)), None)
    if ext is None or (ext == "webp" and data[8:12] != b"WEBP"):
        raise ClientRejected({"photo": _("Send a PNG, JPEG or WebP image.")})
    relative = f"{reseller_id}/clients/{secrets.token_hex(16)}.{ext}"
    target = Path(current_app.config["UPLOAD_DIR"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative


def inactivation_blockers(client: Client) -> list[str]:
    """Why the client cannot be inactivated now (empty when it can)."""
    reasons = []
    open_tickets = hooks.open_work(client)
    if open_tickets:
        reasons.append(_("It has %(n)d open or pending-review ticket(s).", n=open_tickets))
    if client.status == ClientStatus.ACTIVE:
        reasons.append(_("It has an active plan (%(plan)s).", plan=client.plan_name or "-"))
    elif client.plan_id is not None:
        reasons.append(
            _("It has a plan pending payment or adjustment (%(plan)s).", plan=client.plan_name or "-")
        )
    return reasons


def inactivate_client(client: Client) -> list[str]:
    """Archive the client unless something blocks it; returns the blockers."""
    blockers = inactivation_blockers(client)
    if blockers or client.inactivated_at is not None:
        return blockers
    client.inactivated_at = utcnow()
    audit.record("client.inactivated", client)
    return []


def reactivate_client(client: Client) -> None:
    if client.inactivated_at is None:
        return
    client.inactivated_at = None
    audit.record("client.reactivated", client)


def create_client_from_email(
    reseller_id: int, *, trade_name: str, email: str, person_name: str, document_type: str
) -> Client:
    """A client made from an unknown sender's e-mail (seed 003): named from the sender's
    domain (or the person, for a webmail address), its responsible user the sender, its
    documents and address left for staff to complete, marked "criado por e-mail" until
    they review it. Linked to the desks that take every new client, like any client."""
    name = " ".join(trade_name.split())[:120] or email
    client = Client(
        reseller_id=reseller_id,
        trade_name=name,
        legal_name=name[:160],
        email=email[:254],
        document_type=document_type,
        document="",
    )
    db.session.add(client)
    db.session.flush()
    account = identity.add_client_user(
        reseller_id=reseller_id, client_id=client.id, email=email, name=person_name[:120] or name
    )
    _make_responsible(client, account)
    mark_created_by_email(client)
    audit.record("client.created", client, details={"trade_name": client.trade_name, "by_email": True})
    hooks.client_created(client)
    return client


def mark_created_by_email(client: Client) -> None:
    """Mark a client created from an unknown sender's e-mail (seed 003): the panel shows it
    "criado por e-mail" until staff complete its registration and mark it reviewed."""
    client.created_by_email = True
    client.email_review_pending = True


def mark_reviewed(client: Client) -> bool:
    """Staff reviewed a client created by e-mail; returns whether anything changed."""
    if not client.email_review_pending:
        return False
    client.email_review_pending = False
    audit.record("client.email_review_done", client, details={"before": True, "after": False})
    return True


def client_users(client: Client) -> list[Account]:
    """The users who can be the client's responsible user (see :func:`tenant.users.assignable_users`)."""
    return assignable_users(client)
