"""The reseller's own settings, written only here: its brand (name, colour, logo,
favicon), the contacts clients see, the e-mail sender name, and its security settings
within the platform's limits. Each change is audited with before and after; bad input
raises :class:`SettingsRefused` naming the field, and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from auth import sessions
from core import audit, branding
from core.config import MAX_AUDIT_RETENTION_MONTHS, MAX_PURGE_DELAY_HOURS, MIN_AUDIT_RETENTION_MONTHS
from core.models import Reseller
from core.validation import clean_email
from reseller import brand_files
from tenant.phones import normalise_phone

# What a reseller may write of how to pay without online payment (shown to clients).
MAX_PAYMENT_INSTRUCTIONS = 2000


class SettingsRefused(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Bound:
    low: int
    high: int


# Each security number and the range the platform allows it (sessions: its maxima).
SECURITY_BOUNDS = {
    "staff_idle_minutes": Bound(5, int(sessions.STAFF_IDLE.total_seconds() // 60)),
    "staff_session_hours": Bound(1, int(sessions.STAFF_ABSOLUTE.total_seconds() // 3600)),
    "user_idle_days": Bound(1, sessions.USER_IDLE.days),
    "user_session_days": Bound(1, sessions.USER_ABSOLUTE.days),
    "grace_days": Bound(0, 60),
    "purge_delay_hours": Bound(0, MAX_PURGE_DELAY_HOURS),
    "audit_retention_months": Bound(MIN_AUDIT_RETENTION_MONTHS, MAX_AUDIT_RETENTION_MONTHS),
}


def _apply(reseller: Reseller, values: dict, errors: dict, action: str) -> dict:
    """Refuse on any error; else save ``values`` and audit what changed (before, after)."""
    if errors:
        raise SettingsRefused(errors)
    changed = {
        key: {"before": getattr(reseller, key), "after": value}
        for key, value in values.items()
        if getattr(reseller, key) != value
    }
    for key, value in values.items():
        setattr(reseller, key, value)
    if changed:
        audit.record(action, reseller, reseller_id=reseller.id, details=changed)
    return changed


def save_brand(
    reseller: Reseller,
    *,
    name: str,
    primary_color: str,
    support_email: str | None,
    support_phone: str | None,
    support_whatsapp: str | None,
    mail_sender_name: str | None,
    mail_creates_clients: bool | None = None,
    payment_instructions: str | None = None,
) -> dict:
    """Check and save the brand and contacts (and, when given, whether an e-mail from an
    unknown sender creates its client); returns what changed."""
    errors: dict[str, str] = {}
    values: dict = {}
    name = (name or "").strip()
    if not name or len(name) > 120 or not name.isprintable():
        errors["name"] = _l("The name is required (at most 120 characters, on one line).")
    values["name"] = name
    colour = (primary_color or "").strip().lower()
    if not branding.valid_colour(colour):
        errors["primary_color"] = _l("Write the colour as #rrggbb (for example #1f6f5c).")
    values["primary_color"] = colour
    email = (support_email or "").strip()
    values["support_email"] = clean_email(email) if email else None
    if email and values["support_email"] is None:
        errors["support_email"] = _l("This e-mail address is not valid.")
    for key, raw in (("support_phone", support_phone), ("support_whatsapp", support_whatsapp)):
        raw = (raw or "").strip()
        values[key] = normalise_phone(raw) if raw else None
        if raw and values[key] is None:
            errors[key] = _l("This phone number is not valid: include the area code (DDD).")
    sender = (mail_sender_name or "").strip()
    if len(sender) > 120 or not sender.isprintable() or any(c in sender for c in '"<>\\'):
        errors["mail_sender_name"] = _l("At most 120 characters, without quotes or angle brackets.")
    values["mail_sender_name"] = sender or None
    if mail_creates_clients is not None:
        values["mail_creates_clients"] = bool(mail_creates_clients)
    if payment_instructions is not None:
        text = payment_instructions.replace("\r\n", "\n").strip()
        if len(text) > MAX_PAYMENT_INSTRUCTIONS or not all(c.isprintable() or c == "\n" for c in text):
            errors["payment_instructions"] = _l("At most 2,000 characters of text.")
        values["payment_instructions"] = text or None
    return _apply(reseller, values, errors, "reseller.brand_changed")


def colour_preview(colour: str | None, saved: str) -> dict:
    """What the settings page shows of a primary colour (``saved`` while the typed one is
    not a colour yet): its shades, the text on it and the text on the page in its colour,
    with their contrast, and whether that text had to use a darker shade. No colour is
    refused for contrast: one of black or white always reads on it at 4.5:1 or more, and
    a shade of it towards black on the page (``tests/test_brand_contrast.py``)."""
    colour = (colour or "").strip().lower()
    if not branding.valid_colour(colour):
        colour = saved
    shades = branding.palette(colour)
    return {
        **shades,
        "text_is_white": shades["text"] == branding.WHITE,
        "text_contrast": round(branding.contrast(shades["text"], colour), 1),
        "link_contrast": round(_on_page(shades["link"]), 1),
        "adjusted": shades["link"] != colour,
    }


def _on_page(colour: str) -> float:
    return min(branding.contrast(colour, bg) for bg in branding.PAGE_BACKGROUNDS)


def store_image(reseller: Reseller, kind: str, data: bytes) -> None:
    """Check, clean and store an uploaded logo or favicon (its URL changes with it)."""
    try:
        content, content_type = brand_files.prepare(kind, data)
    except brand_files.FileRefused as exc:
        raise SettingsRefused({kind: str(exc)}) from exc
    before = getattr(reseller, f"{kind}_version")
    version = brand_files.version_of(content)
    setattr(reseller, f"{kind}_data", content)
    setattr(reseller, f"{kind}_type", content_type)
    setattr(reseller, f"{kind}_version", version)
    audit.record(
        f"reseller.{kind}_changed",
        reseller,
        reseller_id=reseller.id,
        details={"before": before, "after": version, "type": content_type, "bytes": len(content)},
    )


def remove_image(reseller: Reseller, kind: str) -> None:
    before = getattr(reseller, f"{kind}_version")
    if before is None:
        return
    for suffix in ("data", "type", "version"):
        setattr(reseller, f"{kind}_{suffix}", None)
    audit.record(f"reseller.{kind}_removed", reseller, reseller_id=reseller.id, details={"before": before})


def save_security(reseller: Reseller, values: dict) -> dict:
    """Check and save the security settings (numbers within :data:`SECURITY_BOUNDS`;
    an empty purge delay means the platform's); returns what changed."""
    errors: dict[str, str] = {}
    clean: dict = {
        "require_staff_2fa": bool(values.get("require_staff_2fa")),
        "code_on_every_new_browser": bool(values.get("code_on_every_new_browser")),
    }
    for key, bound in SECURITY_BOUNDS.items():
        value = values.get(key)
        if value is None and key == "purge_delay_hours":
            clean[key] = None
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not bound.low <= value <= bound.high:
            errors[key] = _l("Choose a number from %(low)d to %(high)d.", low=bound.low, high=bound.high)
        clean[key] = value
    return _apply(reseller, clean, errors, "reseller.security_changed")
