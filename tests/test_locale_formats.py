"""The list's dates and numbers, written per locale without Babel on every value
(core/formatting.py), read exactly as Babel writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from babel.dates import format_timedelta as babel_format_timedelta
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    lazy_gettext,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment

from core.formatting import (
    _compile_date,
    _translations,
    ago,
    date_br,
    date_writer,
    datetime_br,
    datetime_writer,
    label,
    locale_formats,
    money,
    number,
    number_writer,
)
from reseller.views import blueprint as panel

LOCALES = ("pt-BR", "en")


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    whole=st.integers(min_value=-(10**15), max_value=10**15),
    cents=st.one_of(st.integers(min_value=-(10**13), max_value=10**13), st.integers(-1000, 1000)),
)
def test_dates_and_whole_numbers_read_as_babel_writes_them(app, day, moment, whole, cents):
    for language in LOCALES:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            assert date_br(day) == format_date(day, "short")
            # A stored datetime is naive UTC: the day it falls on in Brazil.
            assert date_br(moment) == format_date(moment.replace(tzinfo=UTC), "short")
            # Its date and time in Brazil (pt-BR: compiled; en's 12-hour clock: Babel).
            assert datetime_br(moment) == format_datetime(moment, "short")
            assert number(whole) == format_decimal(whole)
            # The writers a list's rows use (locale and zone found once) say the same.
            write_date, write_number = date_writer(), number_writer()
            assert (write_date(day), write_date(moment)) == (date_br(day), date_br(moment))
            assert write_number(whole) == number(whole)
            assert datetime_writer()(moment) == datetime_br(moment)
            # Reais in cents (compiled for both languages).
            assert money(cents) == format_currency(cents / 100, "BRL")


def test_a_forced_locale_is_honoured_inside_a_request_and_left_behind_after(app):
    day = date(2026, 5, 3)
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        assert (date_br(day), number(1234567)) == ("03/05/2026", "1.234.567")
        # 02:30 UTC on New Year's Day is still the 31st in São Paulo.
        assert datetime_br(datetime(2026, 1, 1, 2, 30)) == "31/12/2025 23:30"
        with force_locale("en"):
            assert (date_br(day), number(1234567)) == ("5/3/26", "1,234,567")
        assert (date_br(day), number(1234567)) == ("03/05/2026", "1.234.567")


def test_what_the_fast_path_does_not_know_goes_to_babel(app):
    assert _compile_date("dd/MM/y")(date(2026, 1, 9)) == "09/01/2026"
    assert _compile_date("d 'de' MMM") is None  # a month name: Babel's job
    assert locale_formats("pt_BR").group_symbol == "."
    # pt-BR's short date and time is compiled; en's "h:mm a" needs Babel.
    assert locale_formats("pt_BR").short_datetime is not None
    assert locale_formats("pt_BR").brl_cents(-123456) == "-R$\xa01.234,56"
    assert locale_formats("en").brl_cents(5) == "R$0.05"
    assert locale_formats("en").short_datetime is None
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        assert number(12.5) == "12,5" and number(None) == "" and date_br(None) == "—"
        assert date_br("not a date") == "not a date"
        write_date, write_number = date_writer(), number_writer()
        assert (write_date(None), write_date("not a date")) == ("—", "not a date")
        assert (write_number(12.5), write_number(None)) == ("12,5", "")
        assert datetime_writer()(None) == "—"


def test_lazy_labels_read_as_flask_babel_translates_them(app):
    plain, with_value = lazy_gettext("Resolved"), lazy_gettext("%(n)d tickets changed.", n=3)
    for language in LOCALES:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            assert label(plain) == str(plain)
            assert label(with_value) == str(with_value)  # variables: Flask-Babel's own path
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        assert label(plain) == "Resolvido"
        with force_locale("en"):
            assert label(plain) == "Resolved"
        assert label("já traduzido") == "já traduzido"


def test_the_panels_payment_and_period_labels_read_as_flask_babel_translates_them(app):
    helpers = (
        (panel.payment_type_label, panel.PAYMENT_TYPE_LABELS),
        (panel.payment_status_label, panel.PAYMENT_STATUS_LABELS),
        (panel.period_label, panel.PERIOD_LABELS),
    )
    for language in LOCALES:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            for helper, labels in helpers:
                assert all(helper(key) == str(text) for key, text in labels.items())
                assert helper("unknown-value") == "unknown-value"
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        assert (panel.payment_status_label("paid"), panel.period_label("monthly")) == ("Pago", "Mensal")


def test_a_templates_gettext_renders_as_jinjas_new_style_gettext(app):
    # core.formatting calls the catalogue directly; Jinja's i18n extension, as it was
    # installed before, is the reference.
    reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    reference.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
    )
    cases = [
        ("{{ _('Clients') }}", {}),
        ("{{ _('Use at least %(n)d characters.', n=12) }}", {}),
        ("{{ gettext('%(code)s is your access code for %(name)s', code=c, name=n) }}", {"c": "<", "n": "&"}),
        ("{{ _('100%% sure') }} {{ _('<b>%(x)s</b>', x=x) }}", {"x": "<i>"}),
        ("{% trans n=3 %}Use at most {{ n }} characters.{% endtrans %}", {}),
    ]
    for language, expected_word in (("pt-BR", "Clientes"), ("en", "Clients")):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            assert app.jinja_env.from_string("{{ _('Clients') }}").render() == expected_word
            for source, values in cases:
                ours = app.jinja_env.from_string(source).render(**values)
                assert ours == reference.from_string(source).render(**values), source
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        page = app.jinja_env.from_string(cases[2][0]).render(c="<", n="&")
        assert page == "&lt; is your access code for &amp;"
        assert app.jinja_env.from_string(cases[3][0]).render(x="<i>") == "100% sure <b>&lt;i&gt;</b>"


@settings(max_examples=300, deadline=None)
@given(
    seconds=st.one_of(
        st.integers(min_value=60, max_value=10**9),
        # Around each unit's threshold (0.85) and the minute's rounding.
        st.sampled_from([60, 89, 90, 91, 3059, 3060, 3061, 73439, 73440, 73441, 514079, 514080]),
    ),
    micro=st.integers(min_value=0, max_value=999_999),
)
def test_how_long_ago_reads_as_babel_writes_it(app, seconds, micro):
    now = datetime(2026, 12, 2, 12, 0)
    elapsed = timedelta(seconds=seconds, microseconds=micro)
    with time_machine.travel(now.replace(tzinfo=UTC), tick=False):
        for language in LOCALES:
            with app.test_request_context("/", headers={"Accept-Language": language}):
                locale = get_locale()
                written = babel_format_timedelta(elapsed, granularity="minute", format="short", locale=locale)
                assert ago(now - elapsed) == written
