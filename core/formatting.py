"""Jinja filters that speak the user's locale (pt-BR by default).

A list renders a hundred dates and numbers, and Flask-Babel resolves the locale, its
patterns and its catalogue again for each (10-26 µs a value, over 1 ms a page). So what
a locale needs is found once: the catalogue and the formats are kept on ``g`` beside
the locale object they were found for (``force_locale`` swaps that object, so another
locale looks them up again), and the short date, whole-number and reais patterns are
compiled per locale into plain Python. Anything else goes through Babel as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import TIMEDELTA_UNITS, get_date_format, get_datetime_format, get_time_format
from babel.dates import format_timedelta as babel_format_timedelta
from babel.numbers import format_currency as babel_format_currency
from babel.numbers import get_currency_precision, get_decimal_symbol, get_group_symbol
from flask import g
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    get_timezone,
    get_translations,
    gettext,
)
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup

from core.timeutil import local_date, utcnow

# Babel date-pattern fields the fast path writes itself; any other field: Babel.
_DATE_FIELDS = {
    "d": "{0.day}",
    "dd": "{0.day:02d}",
    "M": "{0.month}",
    "MM": "{0.month:02d}",
    "y": "{0.year}",
    "yyyy": "{0.year}",
    "yy": "{1:02d}",
}
# Time fields, for the short date-and-time (a 12-hour clock, "h:mm a": Babel).
_TIME_FIELDS = {"H": "{0.hour}", "HH": "{0.hour:02d}", "m": "{0.minute}", "mm": "{0.minute:02d}"}
_DATE_TOKEN = re.compile(r"([a-zA-Z])\1*|'[^']*'|[^a-zA-Z']+")


@dataclass(frozen=True)
class LocaleFormats:
    """What the filters need of one locale, compiled once."""

    short_date: Callable[[date], str] | None  # None: the pattern needs Babel
    short_datetime: Callable[[datetime], str] | None  # a local (aware) datetime; None: Babel
    group_symbol: str
    plain_integers: bool  # "#,##0" grouping by thousands, as in pt-BR and en
    brl_cents: Callable[[int], str] | None = None  # an amount in cents; None: Babel


def _compile_date(pattern: str, fields: dict = _DATE_FIELDS) -> Callable[[date], str] | None:
    """A Babel date (or time) pattern as a ``str.format`` template, or None if it needs
    Babel."""
    template = []
    for match in _DATE_TOKEN.finditer(pattern):
        token = match.group(0)
        if token[0].isalpha():
            if token not in fields:
                return None
            template.append(fields[token])
        else:
            literal = token[1:-1] if token.startswith("'") else token
            template.append(literal.replace("{", "{{").replace("}", "}}"))
    fmt = "".join(template).format
    return lambda day: fmt(day, day.year % 100)


@lru_cache(maxsize=32)
def locale_formats(locale_name: str) -> LocaleFormats:
    locale = Locale.parse(locale_name)
    pattern = locale.decimal_formats.get(None)
    grouping = pattern is not None and pattern.grouping == (3, 3) and get_decimal_symbol(locale) != ""
    short_date = _compile_date(get_date_format("short", locale).pattern)
    short_time = _compile_date(get_time_format("short", locale).pattern, _TIME_FIELDS)
    short_datetime = None
    if short_date and short_time:
        # "{1} {0}": the date, then the time (Babel's datetime_formats).
        both = get_datetime_format("short", locale).replace("{", "{{").replace("}", "}}")
        both = both.replace("{{1}}", "{0}").replace("{{0}}", "{1}").format

        def short_datetime(moment: datetime) -> str:
            return both(short_date(moment), short_time(moment))

    return LocaleFormats(
        short_date=short_date,
        short_datetime=short_datetime,
        group_symbol=get_group_symbol(locale),
        plain_integers=grouping,
        brl_cents=_compile_brl(locale),
    )


def _compile_brl(locale: Locale) -> Callable[[int], str] | None:
    """Reais in cents as Babel writes them in ``locale`` (``R$\xa01.234,56``,
    ``R$1,234.56``): what surrounds the number, positive and negative, read from Babel
    once; None when the locale's currency pattern is not plain thousands and 2 decimals."""
    pattern = locale.currency_formats.get("standard")
    if pattern is None or pattern.grouping != (3, 3) or get_currency_precision("BRL") != 2:
        return None
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
    body = f"1{group}234{group}567{decimal}89"
    positive = babel_format_currency(1234567.89, "BRL", locale=locale)
    negative = babel_format_currency(-1234567.89, "BRL", locale=locale)
    if positive.count(body) != 1 or negative.count(body) != 1 or group == decimal:
        return None
    (prefix, suffix), (minus_prefix, minus_suffix) = positive.split(body), negative.split(body)

    def brl_cents(cents: int) -> str:
        reais, rest = divmod(abs(cents), 100)
        digits = f"{reais:,}".replace(",", group) + f"{decimal}{rest:02d}"
        return f"{minus_prefix}{digits}{minus_suffix}" if cents < 0 else f"{prefix}{digits}{suffix}"

    return brl_cents


def _per_locale(name: str, build: Callable[[], object]):
    """``build()`` once per request and locale (see the module's docstring).

    Reads ``g``'s attributes from the object behind the proxy, once: a page asks this
    a hundred times (every string and value), and each ``g.get`` resolves the proxy."""
    state = g._get_current_object().__dict__
    locale = getattr(state.get("_flask_babel"), "babel_locale", None)
    cached = state.get("_per_locale")
    if cached is None or locale is None or cached[0] is not locale:
        value = build()  # may resolve the locale: read it again after
        state["_per_locale"] = (getattr(state.get("_flask_babel"), "babel_locale", None), {name: value})
        return value
    values = cached[1]
    if name not in values:
        values[name] = build()
    return values[name]


def _formats() -> LocaleFormats:
    return _per_locale("formats", lambda: locale_formats(str(get_locale())))


def number(value) -> str:
    if value is None:
        return ""
    if type(value) is int:
        formats = _formats()
        if formats.plain_integers:
            return f"{value:,}".replace(",", formats.group_symbol)
    return format_decimal(value)


def money(cents) -> str:
    if cents is None:
        return ""
    if type(cents) is int:
        write = _formats().brl_cents
        if write is not None:
            return write(cents)
    return format_currency(cents / 100, "BRL")


def date_br(value) -> str:
    if value is None:
        return "—"
    if not isinstance(value, date | datetime):
        return str(value)
    formats = _formats()
    if formats.short_date is None:
        return format_date(value, "short")
    if isinstance(value, datetime):
        # A datetime is UTC: the day it falls on in the user's time zone.
        value = local_date(value, _per_locale("zone", get_timezone))
    return formats.short_date(value)


def date_writer() -> Callable[[object], str]:
    """``date_br`` for many values (a list's rows): the locale's pattern and the zone are
    found once, not once per value."""
    formats = _formats()
    short_date = formats.short_date
    if short_date is None:
        return date_br
    zone = _per_locale("zone", get_timezone)

    def write(value) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            return short_date(local_date(value, zone))
        return short_date(value) if isinstance(value, date) else str(value)

    return write


def datetime_writer() -> Callable[[datetime | None], str]:
    """``datetime_br`` for many values (a queue's deadlines): pattern and zone found once."""
    short_datetime = _formats().short_datetime
    if short_datetime is None:
        return datetime_br
    zone = _per_locale("zone", get_timezone)

    def write(value) -> str:
        if value is None:
            return "—"
        if not isinstance(value, datetime):
            return format_datetime(value, "short")
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return short_datetime(aware.astimezone(zone))

    return write


def number_writer() -> Callable[[object], str]:
    """``number`` for many values, the locale's grouping found once."""
    formats = _formats()
    if not formats.plain_integers:
        return number
    group = formats.group_symbol
    return lambda value: f"{value:,}".replace(",", group) if type(value) is int else number(value)


def datetime_br(value) -> str:
    if value is None:
        return "—"
    formats = _formats()
    if formats.short_datetime is None or not isinstance(value, datetime):
        return format_datetime(value, "short")
    # A stored datetime is naive UTC: its time in the user's zone, as Flask-Babel reads it.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return formats.short_datetime(aware.astimezone(_per_locale("zone", get_timezone)))


def time_br(value) -> str:
    return "—" if value is None else format_time(value, "short")


def ago(value) -> str:
    """How long ago a stored (naive UTC) moment was, in the user's language ("5 min").

    Babel's ``format_timedelta`` (granularity minute, threshold 0.85, short) picks a unit
    and a rounded amount, then the locale's pattern; the pick is done here with its rule,
    and each (locale, unit, amount) is formatted by Babel once per process: a list of 50
    rows no longer parses the locale and walks its patterns 50 times."""
    if value is None:
        return "—"
    seconds = _seconds_between(value, utcnow())
    if seconds < 60:
        return gettext("just now")
    return _ago_in(str(get_locale() or "pt_BR"), seconds)


def ago_writer() -> Callable[[datetime | None], str]:
    """``ago`` for many values (a list's rows): the moment, the locale and "just now"
    found once, not once per value."""
    now, locale, just_now = utcnow(), str(get_locale() or "pt_BR"), gettext("just now")

    def write(value) -> str:
        if value is None:
            return "—"
        seconds = _seconds_between(value, now)
        return just_now if seconds < 60 else _ago_in(locale, seconds)

    return write


def _seconds_between(value: datetime, now: datetime) -> int:
    elapsed = now - value
    return elapsed.days * 86400 + elapsed.seconds  # whole seconds, as Babel counts


def _ago_in(locale: str, seconds: int) -> str:
    for unit, per_unit in TIMEDELTA_UNITS:
        amount = seconds / per_unit
        if amount >= _AGO_THRESHOLD or unit == "minute":
            return _ago_text(locale, unit, round(amount), per_unit)
    return ""  # not reached: minutes end the walk


_AGO_THRESHOLD = 0.85  # babel.dates.format_timedelta's default


@lru_cache(maxsize=4096)
def _ago_text(locale: str, unit: str, amount: int, per_unit: int) -> str:
    # With the unit as its granularity and no threshold, Babel writes exactly that amount.
    return babel_format_timedelta(
        amount * per_unit, granularity=unit, threshold=float("inf"), format="short", locale=locale
    )


def _translations():
    """This request's catalogue, found once per locale instead of once per string."""
    return _per_locale("catalogue", get_translations)


def label(value) -> str:
    """A ``lazy_gettext`` label (a badge, a status) in this request's language, through
    the catalogue found once per request instead of Flask-Babel's lookup per string;
    anything else as ``str``."""
    if (
        isinstance(value, LazyString)
        and value._func is gettext  # lazy_gettext's: one message, no variables
        and len(value._args) == 1
        and not value._kwargs
    ):
        return _translations().ugettext(value._args[0])
    return str(value)


@pass_context
def _template_gettext(context, message: str, **variables) -> str:
    """A template's ``_()`` and ``gettext()``: what Jinja's new-style gettext does (the
    translation marked safe under autoescape, then always ``%``-formatted, so its
    variables are escaped and ``%%`` reads ``%``), called directly. Through the i18n
    extension's alias and wrapper a string cost about 16 µs, and a page's layout alone
    has some twenty."""
    translated = _translations().ugettext(message)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 - our catalogue, as Jinja marks it
    if variables or "%" in translated:
        return translated % variables
    return translated


def _install_gettext(app) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # The plural and context forms stay the extension's (rare in the templates).
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext)


def init_app(app) -> None:
    _install_gettext(app)
    app.add_template_filter(number, "number")
    app.add_template_filter(money, "money")
    app.add_template_filter(date_br, "date_br")
    app.add_template_filter(datetime_br, "datetime_br")
    app.add_template_filter(time_br, "time_br")
    app.add_template_filter(ago, "ago")
