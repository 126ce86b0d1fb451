"""A form refused for its CSRF token (a page left open, a session ended or changed in
another tab): nothing typed is lost.

Sent from one of this host's pages (a same-origin ``Referer``), the browser goes back to
that page with a message, and the page is marked (``data-draft-restore`` on ``<main>``)
so ``static/app/drafts.js`` puts back what the form held when it was sent (kept in the
tab's sessionStorage, never passwords, tokens or files). If that page asks for a login
first, the draft waits through the login and comes back on the page ``next`` returns to.

Otherwise (no ``Referer``, only an ``Origin``) the reseller's own page says so and offers
to send the same input again with a fresh token.

What goes back into the page is only what the browser sent from one of our own pages
(``Origin``/``Referer`` of this host: a form posted from another site gets no button
that would post it for the attacker), and never a secret: password fields (every
``PasswordField`` of the app's forms, and anything named like a password or token) and
files are dropped; the form they belong to asks for them again.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from wtforms import FileField, PasswordField
from wtforms.fields.core import UnboundField

from core.redirects import safe_local_target
from core.validation import FORM_TYPES

_SECRET_NAME = re.compile(r"pass(word|wd)?|senha|secret|token|^code$", re.I)
# Set when the browser is sent back to a form's page; read (and cleared) by the next
# full page, whose <main> then asks drafts.js to restore the form.
RESTORE_KEY = "_restore_draft"


def _form_classes(cls=FlaskForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def secret_field_names() -> set[str]:
    """Names of the password and file fields of every form of the app."""
    names = set()
    for form in _form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            if isinstance(unbound, UnboundField) and issubclass(
                unbound.field_class, (PasswordField, FileField)
            ):
                names.add(name)
    return names


def _from_this_site() -> bool:
    """Whether the browser says the form was on one of this host's pages."""
    sent_from = request.headers.get("Origin") or request.referrer
    if not sent_from or sent_from == "null":
        return False
    parts = urlsplit(sent_from)
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def _referring_page() -> str | None:
    """The page of this host the form was sent from (its ``Referer``), as a local path a
    GET can open; None for another host, no ``Referer`` or a page GET cannot open."""
    sent_from = request.referrer
    if not sent_from:
        return None
    parts = urlsplit(sent_from)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    page = safe_local_target(parts.path + (f"?{parts.query}" if parts.query else ""))
    if page is None:
        return None
    try:
        current_app.url_map.bind_to_environ(request.environ).match(parts.path, method="GET")
    except HTTPException:
        return None
    return page


def keep_typed() -> None:
    """A refused form whose answer is a redirect (a small form in a list, say): the page
    it lands on puts back what the form held (drafts.js), as after a refused token."""
    session[RESTORE_KEY] = True


def restore_draft() -> bool:
    """Whether this page should restore the form sent from it (once)."""
    return bool(session.pop(RESTORE_KEY, False)) if RESTORE_KEY in session else False


def _kept_fields() -> tuple[list[tuple[str, str]], bool]:
    """The submitted (name, value) pairs safe to send again, and whether any was dropped."""
    token_name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    secrets = secret_field_names()
    kept, dropped = [], bool(request.files)
    for name, values in request.form.lists():
        if name == token_name:
            continue
        if name in secrets or _SECRET_NAME.search(name):
            dropped = True
            continue
        kept.extend((name, value) for value in values)
    return kept, dropped


def csrf_refused(error: CSRFError):
    """The answer to a refused CSRF token: back to the form's page of this host, which
    restores the form; else the branded page with a "Send again" form (htmx: a short
    message), status 400."""
    if request.headers.get("HX-Request"):
        message = _("This page is out of date. Reload it and try again.")
        return f'<div class="alert alert-warning" role="alert" data-csrf-refused>{escape(message)}</div>', 400
    back = _referring_page() if request.mimetype in FORM_TYPES and request.url_rule is not None else None
    if back is not None:
        session[RESTORE_KEY] = True
        flash(
            _("The form expired before it was sent; what you wrote was kept. Check it and send it again."),
            "warning",
        )
        return redirect(back, 303)
    action = safe_local_target(request.full_path if request.query_string else request.path)
    can_resend = (
        action is not None
        and request.url_rule is not None
        and request.mimetype in FORM_TYPES
        and _from_this_site()
    )
    fields, dropped = _kept_fields() if can_resend else ([], False)
    return (
        render_template(
            "core/resubmit.html",
            action=action if can_resend else None,
            fields=fields,
            dropped=dropped,
        ),
        400,
    )


def init_app(app) -> None:
    app.register_error_handler(CSRFError, csrf_refused)
    app.add_template_global(restore_draft)
