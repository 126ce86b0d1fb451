"""The reseller's client list: every filter, every sort, pagination edges, clear
messages for bad filter values, and the query string as the list's state."""

from __future__ import annotations

import itertools
import re
import unicodedata
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.extensions import db
from tenant.models import Client

ROW = re.compile(r'<tr data-client-id="(\d+)"')


@pytest.fixture
def clients(factory, tenants):
    """A varied set in reseller A (besides "Alpha A"), keyed by a short name."""
    a = tenants.a
    basic = factory.plan(a.id, name="Básico", sessions=10)
    pro = factory.plan(a.id, name="Profissional", sessions=500)
    made = {
        "padaria": factory.client(
            a.id,
            trade_name="Padaria São João",
            legal_name="São João Alimentos Ltda",
            plan_id=basic.id,
            payment_type="pix",
            payment_status="paid",
            paid_on=date(2026, 11, 10),
            due_date=date(2026, 12, 10),
            created_at=datetime(2026, 1, 15, 12),
            consumed=4,
        ),
        "oficina": factory.client(
            a.id,
            trade_name="Oficina Zeta",
            legal_name="Zeta Mecânica ME",
            plan_id=pro.id,
            payment_type="boleto",
            payment_status="overdue",
            due_date=date(2026, 10, 1),
            suspended="overdue",
            created_at=datetime(2026, 3, 20, 12),
        ),
        "sem_plano": factory.client(
            a.id,
            trade_name="Ateliê Sem Plano",
            legal_name="Ateliê Costura Ltda",
            created_at=datetime(2026, 5, 5, 12),
        ),
        "inativo": factory.client(
            a.id,
            trade_name="Antiga Loja",
            legal_name="Loja Antiga S.A.",
            inactivated=True,
            created_at=datetime(2025, 7, 1, 12),
        ),
        "cartao": factory.client(
            a.id,
            trade_name="Clínica Bem Estar",
            legal_name="Bem Estar Saúde Ltda",
            plan_id=pro.id,
            payment_type="card",
            payment_status="failed",
            due_date=date(2026, 11, 30),
            created_at=datetime(2026, 8, 8, 12),
            extras=50,
        ),
    }
    made["alpha"] = a.client
    made["plans"] = {"basic": basic.id, "pro": pro.id}
    return made


def ids(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [int(x) for x in ROW.findall(response.get_data(as_text=True))]


def listed(browser, query: str = "") -> list[int]:
    return ids(browser.get(f"/reseller/clients?{query}"))


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


def test_default_hides_inactivated_clients_and_other_resellers(owner, clients, tenants):
    shown = set(listed(owner))
    live = {clients[k].id for k in ("padaria", "oficina", "sem_plano", "cartao", "alpha")}
    assert shown == live
    assert clients["inativo"].id not in shown and tenants.b.client.id not in shown


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("trade_name=sao+joao", ["padaria"]),  # accents and case do not matter
        ("trade_name=PADARIA", ["padaria"]),
        ("trade_name=100%25", []),  # LIKE wildcards are literal
        ("legal_name=ltda", ["padaria", "sem_plano", "cartao", "alpha"]),
        ("legal_name=mecanica", ["oficina"]),
        ("status=active", ["padaria", "oficina", "cartao", "alpha"]),
        ("status=without_plan", ["sem_plano"]),
        ("status=inactivated", ["inativo"]),
        ("status=all", ["padaria", "oficina", "sem_plano", "inativo", "cartao", "alpha"]),
        ("plan=none", ["sem_plano"]),
        ("suspended=yes", ["oficina"]),
        ("suspended=no", ["padaria", "sem_plano", "cartao", "alpha"]),
        ("created_from=2026-03-01&created_to=2026-06-30", ["oficina", "sem_plano"]),
        ("created_from=2026-08-08", ["cartao", "alpha"]),
        ("payment_type=pix", ["padaria", "alpha"]),
        ("payment_type=card", ["cartao"]),
        ("payment_status=overdue", ["oficina"]),
        ("payment_status=failed", ["cartao"]),
        ("trade_name=a&legal_name=ltda&status=active&payment_type=card", ["cartao"]),
    ],
)
def test_each_filter_alone_and_combined(owner, clients, query, expected):
    assert sorted(listed(owner, query)) == sorted(clients[k].id for k in expected)


def test_id_and_plan_filters(owner, clients):
    assert listed(owner, f"id={clients['oficina'].id}") == [clients["oficina"].id]
    assert listed(owner, f"id=%23{clients['oficina'].id}") == [clients["oficina"].id]  # "#123" works too
    pro = clients["plans"]["pro"]
    assert sorted(listed(owner, f"plan={pro}")) == sorted([clients["oficina"].id, clients["cartao"].id])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Valor inválido para Status"),
        ("payment_type=bitcoin", "Valor inválido para Forma de pagamento"),
        ("id=abc", "ID deve ser um número inteiro"),
        ("plan=999999", "Plano desconhecido"),
        ("created_from=2026-13-45", "Criado a partir de não é uma data válida"),
        ("created_from=2026-06-01&created_to=2026-01-01", "é posterior"),
        ("sort=password", "Coluna de ordenação desconhecida"),
        ("dir=sideways", "A direção da ordenação"),
    ],
)
def test_bad_filter_values_get_a_clear_message_and_are_ignored(owner, clients, query, message):
    response = owner.get(f"/reseller/clients?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    partial = owner.get(f"/reseller/clients?{query}", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and message in partial.get_data(as_text=True)  # htmx swaps 2xx only
    # The bad value is dropped: the list shows what it shows without it.
    if "created_to" not in query:
        shown = [int(x) for x in ROW.findall(response.get_data(as_text=True))]
        assert sorted(shown) == sorted(listed(owner))


def test_over_long_search_text_is_cut_with_a_message(owner, clients):
    response = owner.get("/reseller/clients?trade_name=" + "x" * 500)
    assert "A busca é limitada a 120 caracteres" in response.get_data(as_text=True)


SORTS = {
    "id": lambda c: c.id,
    "trade_name": lambda c: c.trade_name_sort,
    "legal_name": lambda c: c.legal_name_sort,
    "created_at": lambda c: c.created_at,
}


@pytest.mark.parametrize("column", list(SORTS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sorts_order_the_rows(owner, clients, column, direction):
    rows = [clients[k] for k in ("padaria", "oficina", "sem_plano", "cartao", "alpha")]
    expected = sorted(rows, key=lambda c: (SORTS[column](c), c.id), reverse=direction == "desc")
    assert listed(owner, f"sort={column}&dir={direction}") == [c.id for c in expected]


@pytest.mark.parametrize(
    "column", ["plan_name", "status", "sessions_remaining", "suspended", "due_date", "last_payment_date"]
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_billing_columns_sort_with_empty_values_last_in_both_directions_and_id_as_tie_breaker(
    app, owner, clients, column, direction
):
    with app.app_context():
        rows = db.session.execute(
            select(Client.id, getattr(Client, column)).where(
                Client.id.in_([clients[k].id for k in ("padaria", "oficina", "sem_plano", "cartao", "alpha")])
            )
        ).all()
    present = sorted([r for r in rows if r[1] is not None], key=lambda r: (r[1], r[0]))
    missing = sorted([r for r in rows if r[1] is None], key=lambda r: r[0])
    expected = present + missing if direction == "asc" else present[::-1] + missing[::-1]
    assert listed(owner, f"sort={column}&dir={direction}") == [r[0] for r in expected]


def test_empty_values_stay_last_on_every_page(owner, factory, tenants):
    """Past the middle a page is read in the reverse order: the empty ones stay at the end
    (each nullable sort, both ways, over the same 60 clients)."""
    plan = factory.plan(tenants.a.id, name="Plano")
    for n in range(60):
        dated = n % 3 != 0
        factory.client(
            tenants.a.id,
            trade_name=f"Empresa {n:02d}",
            plan_id=plan.id if dated else None,
            payment_type="pix" if dated else None,
            payment_status="paid" if dated else None,
            paid_on=date(2026, 1, 1) + timedelta(days=n) if dated else None,
            due_date=date(2027, 1, 1) + timedelta(days=n % 7) if dated else None,
        )
    for column in ("plan_name", "due_date", "last_payment_date"):
        for direction in ("asc", "desc"):
            query = f"trade_name=empresa&sort={column}&dir={direction}"
            pages = [listed(owner, f"{query}&page={p}") for p in (1, 2, 3)]
            shown = [i for page in pages for i in page]
            whole = listed(owner, f"{query}&per_page=100")
            assert shown == whole and len(whole) == 60, (column, direction)
            # The 20 empty ones, by id.
            assert whole[-20:] == sorted(whole[-20:], reverse=direction == "desc"), (column, direction)
            with_value = set(whole[:40])
            assert len(with_value) == 40 and not with_value & set(whole[-20:]), (column, direction)


READER_ORDER = (
    "ábaco Papelaria",
    "Açougue Bom",
    "Acougue Central",
    "Ateliê",
    "Oficina",
    "Ótica Visão",
    "Padaria",
    "Zeta",
)


@pytest.mark.parametrize("column", ["trade_name", "legal_name"])
def test_accented_names_sort_as_a_brazilian_reader_expects(owner, factory, tenants, column):
    other = "legal_name" if column == "trade_name" else "trade_name"
    made = {}
    for name in (READER_ORDER[i] for i in (5, 2, 7, 0, 3, 6, 1, 4)):
        made[name] = factory.client(tenants.a.id, **{column: name, other: "Lote das letras"}).id
    expected = [made[name] for name in READER_ORDER]
    assert listed(owner, f"{other}=lote+das&sort={column}&dir=asc") == expected
    assert listed(owner, f"{other}=lote+das&sort={column}&dir=desc") == expected[::-1]


# Letters with and without their accents, both cases, and what a name holds besides.
LETTERS = st.sampled_from(list("aáàâãAÁÂÃcçCÇeéêEÉoóôõOÓÔuúüUÚiíIÍnñz ß-1&."))
NAMES = st.lists(st.text(LETTERS, min_size=1, max_size=10), min_size=2, max_size=7)
_lots = itertools.count()


def reader_key(name: str) -> str:
    """The test's own reading of a name: marks dropped, case folded (ß is ss), spaces
    collapsed."""
    bare = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=NAMES)
def test_any_names_sort_by_their_letters_whatever_the_accents_and_case(owner, factory, tenants, names):
    lot = f"lote{next(_lots):05d}x"
    made = [(factory.client(tenants.a.id, trade_name=name, legal_name=lot).id, name) for name in names]
    expected = [i for i, name in sorted(made, key=lambda m: (reader_key(m[1]), m[0]))]
    assert listed(owner, f"legal_name={lot}&sort=trade_name&dir=asc") == expected
    assert listed(owner, f"legal_name={lot}&sort=trade_name&dir=desc") == expected[::-1]


def test_pagination_edges(owner, factory, tenants):
    for n in range(60):
        factory.client(tenants.a.id, trade_name=f"Empresa {n:02d}")
    first = listed(owner, "sort=id&dir=asc")
    assert len(first) == 25
    second = listed(owner, "sort=id&dir=asc&page=2")
    last = listed(owner, "sort=id&dir=asc&page=3")
    assert len(second) == 25 and len(last) == 11  # 61 clients with Alpha A
    assert not set(first) & set(second) and not set(second) & set(last)
    # Past the end: the last page. Zero, negative or text: the first page.
    assert listed(owner, "sort=id&dir=asc&page=99") == last
    for bad in ("0", "-3", "abc"):
        assert listed(owner, f"sort=id&dir=asc&page={bad}") == first
    assert len(listed(owner, "per_page=50")) == 50
    assert len(listed(owner, "per_page=100")) == 61
    assert len(listed(owner, "per_page=100000")) == 25  # only 25, 50 or 100
    page = owner.get("/reseller/clients?sort=id&dir=asc&page=3").get_data(as_text=True)
    assert "51–61 de 61" in page


def test_htmx_partial_pushes_the_canonical_url(owner, clients):
    response = owner.get(
        "/reseller/clients?trade_name=padaria&status=&sort=created_at&dir=desc&page=1",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/reseller/clients?trade_name=padaria"
    assert "<html" not in response.get_data(as_text=True)


def test_staff_without_the_clients_permission_get_403(app, factory, tenants, make_browser):
    staff = factory.staff(tenants.a.id, permissions=[], email="nada@a.test")
    browser = make_browser()
    browser.login(staff.email)
    for path in ("/reseller/clients", "/reseller/clients/export.xlsx", "/reseller/clients/new"):
        assert browser.get(path).status_code == 403


def test_a_reseller_without_clients_gets_the_first_client_prompt(app, factory, make_browser):
    reseller = factory.reseller(host="nova.test", owner_email="owner@nova.test")
    browser = make_browser("nova.test")
    browser.login("owner@nova.test")
    page = browser.get("/reseller/clients").get_data(as_text=True)
    assert 'id="first-client"' in page and "Adicione o seu primeiro cliente" in page
    assert 'href="/reseller/clients/new"' in page
    assert "Nenhum cliente corresponde" not in page and 'id="filters"' not in page
    # Once it has one, even inactivated and hidden by default, a list that shows nothing
    # says that the filters match nothing.
    factory.client(reseller.id, trade_name="Arquivada", inactivated=True)
    page = browser.get("/reseller/clients").get_data(as_text=True)
    assert 'id="first-client"' not in page and "Nenhum cliente corresponde a estes filtros" in page


def test_filters_that_match_nothing_say_so_and_offer_to_clear_them(owner, clients):
    response = owner.get("/reseller/clients?trade_name=nada+disso")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ids(response) == []
    assert "Nenhum cliente corresponde a estes filtros" in page and 'id="first-client"' not in page
    assert "Limpar os filtros" in page
    partial = owner.get("/reseller/clients?trade_name=nada+disso", headers={"HX-Request": "true"})
    assert "Nenhum cliente corresponde" in partial.get_data(as_text=True)


def test_each_row_writes_its_own_id_and_an_escaped_name_into_the_shared_parts(owner, factory, tenants):
    """The row menu and the status button are prepared once and each row puts its id and
    name in: a name with markup stays text, every row links to its own client; the status
    buttons submit the page's one form, which carries the CSRF token and the way back."""
    hostile = factory.client(tenants.a.id, trade_name='Bar "Zé" <b>&</b>\'s', legal_name="Hostil Ltda")
    retired = factory.client(tenants.a.id, trade_name="Inativa Ltda", inactivated=True)
    page = owner.get("/reseller/clients?status=all&per_page=100").get_data(as_text=True)
    assert "<b>&</b>" not in page
    escaped = "Bar &#34;Zé&#34; &lt;b&gt;&amp;&lt;/b&gt;&#39;s"
    assert f'data-confirm="Inativar {escaped}? Ele sai da lista de clientes ativos' in page
    assert f'aria-label="Ações de {escaped}"' in page
    form = page[page.index('<form id="client-status" method="post" hidden>') :]
    form = form[: form.index("</form>")]
    assert 'name="csrf_token" value="' in form and 'name="next" value="/reseller/clients?status=all' in form
    for client in (hostile, retired, tenants.a.client):
        row = page[page.index(f'data-client-id="{client.id}"') :]
        row = row[: row.index("</tr>")]
        for action in ("edit", "billing", "delete", "users"):
            assert f"/reseller/clients/{client.id}/{action}" in row
        status_action = "reactivate" if client is retired else "inactivate"
        assert f'form="client-status" formaction="/reseller/clients/{client.id}/{status_action}"' in row
        assert "__ID__" not in row and "\x00" not in row
