"""Input checks shared by every domain: e-mail addresses, whole numbers, ids in URLs,
and the refusal of NUL bytes in any text a request carries."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask import current_app, jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField

# PostgreSQL's ``integer``: the type of every id, count and position column. A larger
# number in a query fails there ("integer out of range"), and past 64 bits SQLite
# cannot even bind it, so no number read from a request may exceed it.
MAX_DB_INT = 2**31 - 1

# ASCII digits only: str.isdigit() and the regex \d also accept "²", "①" or "٣",
# which int() refuses or reads as a number nobody typed on purpose.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


def clean_email(value: str | None) -> str | None:
    """The normalised, lower-case address, or ``None`` when it is not one.

    No DNS look-up; ``.test`` addresses (RFC 2606, used by the demo) are accepted.
    """
    if not value or len(value) > 254:
        return None
    try:
        return validate_email(
            value.strip(), check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError:
        return None


def parse_choice(args, name: str, allowed, label, errors: list) -> str:
    """A list filter's ``args[name]``, stripped, when it is one of ``allowed``; "" when it
    is absent, and "" with a message added to ``errors`` when it is anything else."""
    value = (args.get(name) or "").strip()
    if value and value not in allowed:
        errors.append(gettext("Unknown value for %(field)s.", field=label))
        return ""
    return value


def parse_int(value, *, min: int = 0, max: int = MAX_DB_INT) -> int | None:
    """The whole number written in ASCII digits in ``value`` (at most 12, spaces
    around them allowed), when it lies within ``min``..``max``; otherwise ``None``.

    For every number read from a query string, a form or a JSON body: a value that is
    not one, or one the database could not compare or store, reads as no value.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        if not _WHOLE_NUMBER.fullmatch(text):
            return None
        number = int(text)
    return number if min <= number <= max else None


class WholeNumberField(IntegerField):
    """WTForms' IntegerField read by :func:`parse_int`: ASCII digits only, and no
    number the database's integer cannot hold (add ``NumberRange`` for a tighter one)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = parse_int(valuelist[0], min=-MAX_DB_INT)
        if self.data is None:
            raise ValueError(self.gettext("Not a valid integer value."))


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: ASCII digits up to :data:`MAX_DB_INT`, so an id too
    large for the column is a 404 like any unknown id, never a database error."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


# --- NUL bytes ---------------------------------------------------------------------------

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_REFUSED = _l("The text sent contains a character that is not allowed (NUL).")


class NulRefused(BadRequest):
    """A request whose text holds a NUL byte (answered by the branded 400 page)."""

    def __init__(self):
        super().__init__(description=str(NUL_REFUSED))


def refuse_nul_bytes():
    """``before_request``: answer 400 when any text of the request holds a NUL byte.

    No column may hold one (PostgreSQL refuses it outright, SQLite stores it and every
    reader then trips on it), so it is refused once here rather than field by field:
    query-string and form names and values, the values of the URL's path, and every
    string of a JSON body. Uploaded files are not text and are not read. A body is
    only parsed as JSON when its raw bytes hold the escape ``\\u0000`` (a raw NUL is
    not valid JSON at all), so signed webhooks keep their raw body and their speed.
    JSON requests get a JSON error, the others the reseller's error page. A view marked
    ``streams_body`` (``core.access``) reads its body itself: it is left unread here.
    """
    texts = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "streams_body", False):
        if any(NUL in key or (isinstance(value, str) and NUL in value) for key, value in texts):
            raise NulRefused()
        return None
    is_form = request.mimetype in FORM_TYPES
    if is_form:
        # Keep the raw body: a signed endpoint (the inbound channel) still verifies it
        # after the form was read here (werkzeug parses the form from the cached bytes).
        request.get_data(cache=True)
        texts.extend(request.form.items(multi=True))
    in_text = any(NUL in key or (isinstance(value, str) and NUL in value) for key, value in texts)
    in_body = not in_text and not is_form and _json_body_holds_nul()
    if in_body or (in_text and request.is_json):
        return jsonify(error="text must not contain NUL characters"), 400
    if in_text:
        raise NulRefused()
    return None


def _json_body_holds_nul() -> bool:
    if b"\\u0000" not in request.get_data(cache=True):
        return False
    try:
        return _json_holds_nul(request.get_json(force=True, silent=True))
    except RecursionError:
        return True  # nested deeper than any reader of it could go


def _json_holds_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(NUL in key or _json_holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_json_holds_nul(item) for item in value)
    return False
