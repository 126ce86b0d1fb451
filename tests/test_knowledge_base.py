"""Knowledge base (issue 15): who reads which article (staff, a client user, the public
page), the search (Portuguese stemming and accents on PostgreSQL, folded words on
SQLite), another reseller's articles never found, hostile Markdown inert, and the staff
pages (create, edit, publish, unpublish, delete; audited; bad input refused)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.models import AuditEvent
from portal import knowledge
from portal.models import MAX_BODY_CHARS, KbArticle
from portal.states import ArticleStatus, Visibility


@pytest.fixture
def articles(factory, tenants):
    a = tenants.a.id
    return {
        "public": factory.article(
            a, "Como pagar a fatura", "Pague a **fatura** pelo boleto.", Visibility.PUBLIC
        ),
        "clients": factory.article(
            a,
            "Configuração do e-mail",
            "Passo a passo da configuração.",
            Visibility.CLIENTS,
            category="E-mail",
        ),
        "internal": factory.article(a, "Roteiro interno da fatura", "Só para a equipe.", Visibility.INTERNAL),
        "draft": factory.article(
            a, "Rascunho da fatura", "Ainda não.", Visibility.PUBLIC, status=ArticleStatus.DRAFT
        ),
        "other": factory.article(tenants.b.id, "Fatura da revenda B", "Segredo de B.", Visibility.PUBLIC),
    }


@pytest.fixture
def user(app, factory, tenants):
    account = factory.user(tenants.a.client.id, email="gente@alpha.test", name="Gente Alpha")
    with app.app_context():
        db.session.get(Account, account.id).permissions = [perm.PORTAL]
        db.session.commit()
    return account


@pytest.fixture
def reader(make_browser, user):
    browser = make_browser()
    browser.login("gente@alpha.test")
    return browser


@pytest.fixture
def staff(make_browser, tenants):
    browser = make_browser()
    browser.login("owner@a.test")
    return browser


def found(app, reseller_id, audience, q=None) -> set[int]:
    with app.test_request_context():
        return {a.id for a in knowledge.search(reseller_id, audience, q)}


def test_each_audience_reads_only_its_articles(app, tenants, articles):
    a = tenants.a.id
    assert found(app, a, knowledge.STAFF) == {articles[k] for k in ("public", "clients", "internal", "draft")}
    assert found(app, a, knowledge.CLIENT) == {articles["public"], articles["clients"]}
    assert found(app, a, knowledge.PUBLIC) == {articles["public"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fatura", {"public"}),
        ("faturas", {"public"}),
        ("configuracao", {"clients"}),
        ("configuração", {"clients"}),
        ("CONFIGURAÇÃO e-mail", {"clients"}),
        ("inexistente", set()),
    ],
)
def test_search_finds_portuguese_words_with_or_without_accents(app, tenants, articles, query, expected):
    on_postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    if query == "faturas" and not on_postgres:
        expected = set()  # SQLite matches folded words, without stemming
    assert found(app, tenants.a.id, knowledge.CLIENT, query) == {articles[k] for k in expected}


def test_title_matches_come_first(app, factory, tenants):
    body_only = factory.article(tenants.a.id, "Boletos", "Como emitir a segunda via da nota fiscal.")
    title = factory.article(tenants.a.id, "Nota fiscal", "Onde encontrar.")
    with app.test_request_context():
        ids = [a.id for a in knowledge.search(tenants.a.id, knowledge.CLIENT, "nota fiscal")]
    assert ids == [title, body_only]


def test_client_pages_list_search_and_open_articles(reader, articles):
    page = reader.get("/app/kb").get_data(as_text=True)
    assert "Como pagar a fatura" in page and "Configuração do e-mail" in page
    assert "Roteiro interno" not in page and "Rascunho" not in page and "revenda B" not in page
    result = reader.get("/app/kb?q=configuracao").get_data(as_text=True)
    assert "Configuração do e-mail" in result and "Como pagar" not in result
    article = reader.get(f"/app/kb/{articles['public']}")
    assert article.status_code == 200 and "<strong>fatura</strong>" in article.get_data(as_text=True)
    for key in ("internal", "draft", "other"):
        assert reader.get(f"/app/kb/{articles[key]}").status_code == 404, key


def test_the_workspace_links_the_knowledge_base_only_with_the_portal_permission(app, reader, user):
    assert 'href="/app/kb"' in reader.get("/app/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Account, user.id).permissions = []
        db.session.commit()
    assert 'href="/app/kb"' not in reader.get("/app/").get_data(as_text=True)
    assert reader.get("/app/kb").status_code == 403


def test_suggestions_for_a_ticket_subject(factory, tenants, reader, articles):
    html = reader.get("/app/kb/suggest?subject=fatura").get_data(as_text=True)
    assert f'data-article="{articles["public"]}"' in html
    assert "Roteiro interno" not in html and "Rascunho" not in html and "revenda B" not in html
    assert reader.get("/app/kb/suggest?subject=ab").get_data(as_text=True).strip() == ""
    # An article naming the ticket's desk comes first.
    desk = factory.desk(tenants.a.id, name="Financeiro")
    named = factory.article(tenants.a.id, "Segunda via", "Peça a segunda via da fatura.", desk_ids=(desk.id,))
    first = reader.get(f"/app/kb/suggest?subject=fatura&desk_id={desk.id}").get_data(as_text=True)
    assert first.index(f'data-article="{named}"') < first.index(f'data-article="{articles["public"]}"')


def test_public_page_needs_no_login_and_shows_public_articles_only(make_browser, tenants, articles):
    anonymous = make_browser()
    page = anonymous.get("/kb")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Como pagar a fatura" in html
    assert (
        "Configuração" not in html
        and "Roteiro" not in html
        and "Rascunho" not in html
        and "revenda B" not in html
    )
    assert anonymous.get(f"/kb/{articles['public']}").status_code == 200
    for key in ("clients", "internal", "draft", "other"):
        assert anonymous.get(f"/kb/{articles[key]}").status_code == 404, key
    # B's host shows B's public article, never A's.
    b_host = make_browser("b.test")
    assert b_host.get(f"/kb/{articles['other']}").status_code == 200
    assert b_host.get(f"/kb/{articles['public']}").status_code == 404


def test_hostile_markdown_is_inert(make_browser, factory, tenants):
    hostile = '<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror="alert(1)">'
    article = factory.article(tenants.a.id, "Perigo", hostile, Visibility.PUBLIC)
    html = make_browser().get(f"/kb/{article}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and 'href="javascript:' not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)" in html and "&lt;img src=x" in html  # shown as text


def audit_actions(app) -> list[str]:
    with app.app_context():
        stmt = select(AuditEvent.action).where(AuditEvent.action.like("kb.%")).order_by(AuditEvent.id)
        return list(db.session.scalars(stmt))


def test_staff_create_edit_publish_unpublish_delete_audited(app, staff, tenants):
    form = {
        "title": "Novo artigo",
        "body": "# Olá",
        "category": "Geral",
        "tags": "a, b",
        "visibility": "public",
    }
    created = staff.post("/reseller/kb/new", {**form, "action": "save"})
    assert created.status_code == 302
    with app.app_context():
        article = db.session.scalar(select(KbArticle).where(KbArticle.title == "Novo artigo"))
        article_id, status = article.id, article.status
    assert status == ArticleStatus.DRAFT
    assert staff.post(f"/reseller/kb/{article_id}", {**form, "title": "Artigo mudado"}).status_code == 302
    assert staff.post(f"/reseller/kb/{article_id}/publish", {"action": "publish"}).status_code == 302
    assert found(app, tenants.a.id, knowledge.PUBLIC) == {article_id}
    assert staff.post(f"/reseller/kb/{article_id}/publish", {"action": "unpublish"}).status_code == 302
    assert found(app, tenants.a.id, knowledge.PUBLIC) == set()
    listing = staff.get("/reseller/kb?status=draft").get_data(as_text=True)
    assert "Artigo mudado" in listing
    assert "Artigo mudado" in staff.get(f"/reseller/kb/{article_id}/delete").get_data(as_text=True)
    assert staff.post(f"/reseller/kb/{article_id}/delete", {}).status_code == 302
    with app.app_context():
        assert db.session.get(KbArticle, article_id) is None
    assert audit_actions(app) == [
        "kb.article_created",
        "kb.article_updated",
        "kb.article_published",
        "kb.article_unpublished",
        "kb.article_deleted",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": " "}, "título"),
        ({"title": "x" * 201}, "longo"),
        ({"body": ""}, "texto"),
        ({"body": "x" * (MAX_BODY_CHARS + 1)}, "longo"),
        ({"visibility": "everyone"}, "ler"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(app, staff, articles, fields, message):
    before = audit_actions(app)
    with app.app_context():
        count = db.session.scalar(select(func.count(KbArticle.id)))
    form = {"title": "Título", "body": "Texto", "visibility": "clients", "action": "save", **fields}
    response = staff.post("/reseller/kb/new", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).lower()
    edited = staff.post(f"/reseller/kb/{articles['clients']}", form)
    assert edited.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(KbArticle.id))) == count
        assert db.session.get(KbArticle, articles["clients"]).title == "Configuração do e-mail"
    assert audit_actions(app) == before


def test_preview_renders_without_saving(app, staff):
    response = staff.post(
        "/reseller/kb/new",
        {"title": "T", "body": "**negrito**", "visibility": "clients", "action": "preview"},
    )
    assert "<strong>negrito</strong>" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(KbArticle.id))) == 0


def test_staff_pages_refuse_client_users_and_another_resellers_articles(reader, staff, articles):
    assert reader.get("/reseller/kb").status_code in (302, 403, 404)
    assert staff.get(f"/reseller/kb/{articles['other']}").status_code == 404
    assert staff.post(f"/reseller/kb/{articles['other']}/delete", {}).status_code == 404


def test_desks_change_with_the_article_and_another_resellers_desk_is_refused(app, factory, tenants, staff):
    first, second = factory.desk(tenants.a.id, name="Suporte"), factory.desk(tenants.a.id, name="Vendas")
    theirs = factory.desk(tenants.b.id, name="Mesa de B")
    article_id = factory.article(tenants.a.id, "Com mesas", "Texto.", desk_ids=(first.id,))
    form = {"title": "Com mesas", "body": "Texto.", "visibility": "clients", "action": "save"}
    assert staff.post(f"/reseller/kb/{article_id}", {**form, "desk_ids": [str(second.id)]}).status_code == 302
    refused = staff.post(f"/reseller/kb/{article_id}", {**form, "desk_ids": [str(theirs.id)]})
    assert refused.status_code == 422 and "mesas da sua revenda" in refused.get_data(as_text=True)
    with app.app_context():
        assert [link.desk_id for link in db.session.get(KbArticle, article_id).desks] == [second.id]
