"""A form refused for its CSRF token (a page left open, a session ended or changed in
another tab): the reseller's own page says so and offers to send the same input again
with a fresh token, so nothing typed is lost.

What goes back into the page is only what the browser sent from one of our own pages
(``Origin``/``Referer`` of this host: a form posted from another site gets no button
that would post it for the attacker), and never a secret: password fields (every
``PasswordField`` of the app's forms, and anything named like a password or token) and
files are dropped; the form they belong to asks for them again.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from wtforms import FileField, PasswordField
from wtforms.fields.core import UnboundField

from core.redirects import safe_local_target
from core.validation import FORM_TYPES

_SECRET_NAME = re.compile(r"pass(word|wd)?|senha|secret|token|^code$", re.I)


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
    """The answer to a refused CSRF token: the branded page with a "Send again" form
    (htmx: a short message), status 400."""
    if request.headers.get("HX-Request"):
        message = _("This page is out of date. Reload it and try again.")
        return f'<div class="alert alert-warning" role="alert" data-csrf-refused>{escape(message)}</div>', 400
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
