"""Jinja filters that speak the user's locale (pt-BR by default)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_currency, format_date, format_datetime, format_decimal, format_time


def number(value) -> str:
    return "" if value is None else format_decimal(value)


def money(cents) -> str:
    return "" if cents is None else format_currency(cents / 100, "BRL")


def date_br(value) -> str:
    if value is None:
        return "—"
    # A datetime is UTC: format_date shows its day in the user's time zone.
    return format_date(value, "short") if isinstance(value, date | datetime) else str(value)


def datetime_br(value) -> str:
    return "—" if value is None else format_datetime(value, "short")


def time_br(value) -> str:
    return "—" if value is None else format_time(value, "short")


def init_app(app) -> None:
    app.add_template_filter(number, "number")
    app.add_template_filter(money, "money")
    app.add_template_filter(date_br, "date_br")
    app.add_template_filter(datetime_br, "datetime_br")
    app.add_template_filter(time_br, "time_br")
