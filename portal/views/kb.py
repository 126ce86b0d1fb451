"""The knowledge base as its readers see it: the client user's pages in the workspace
(``/app/kb``: search, the articles by category, one article; with the *portal*
permission), the suggestions for a ticket's subject as the user types
(``/app/kb/suggest``), and the reseller's public page (``/kb``), for anyone on the
reseller's host without a login: its public articles only, another's a 404."""

from __future__ import annotations

from itertools import groupby

from flask import abort, render_template, request

from auth import permissions as perm
from auth.access import current_account, has_permission
from core.access import public
from core.tenancy import require_reseller
from core.validation import parse_int
from portal import knowledge
from portal.markdown_html import render
from portal.views.blueprints import bp, public_bp

SUGGESTIONS = 5


def _client_reader() -> int:
    """The reseller whose articles the current client user reads (403 without *portal*)."""
    if not has_permission(perm.PORTAL):
        abort(403)
    return current_account.reseller_id


def _by_category(articles) -> list[tuple[str, list]]:
    ordered = sorted(articles, key=lambda a: (a.category or "", a.title))
    return [(category, list(rows)) for category, rows in groupby(ordered, key=lambda a: a.category or "")]


def _list_page(template: str, reseller_id: int, audience: str, endpoints: str):
    """The audience's articles: by category, or the best matches of the query ``q``
    (``endpoints``: the prefix of the list's ``_page`` and the article's ``_article``)."""
    q = request.args.get("q") or ""
    articles = knowledge.search(reseller_id, audience, q)
    return render_template(
        template,
        q=q,
        articles=articles,
        groups=None if q.strip() else _by_category(articles),
        article_url=f"{endpoints}_article",
        search_url=f"{endpoints}_page",
    )


@bp.get("/kb")
def kb_page():
    return _list_page("portal/kb.html", _client_reader(), knowledge.CLIENT, "portal.kb")


@bp.get("/kb/<int:article_id>")
def kb_article(article_id: int):
    article = knowledge.get(_client_reader(), article_id, knowledge.CLIENT)
    if article is None:
        abort(404)
    return render_template(
        "portal/kb_article.html", article=article, body=render(article.body), back_url="portal.kb_page"
    )


@bp.get("/kb/suggest")
def kb_suggest():
    """Articles matching a ticket's subject as the user types (an htmx fragment);
    articles naming the ticket's desk first."""
    reseller_id = _client_reader()
    subject = request.args.get("subject") or ""
    desk_id = parse_int(request.args.get("desk_id"), min=1)
    articles = (
        knowledge.search(reseller_id, knowledge.CLIENT, subject, desk_id=desk_id, limit=SUGGESTIONS)
        if len(subject.strip()) >= 3
        else []
    )
    return render_template("portal/_kb_suggestions.html", articles=articles)


@public_bp.get("")
@public
def public_page():
    reseller_id = require_reseller().id
    return _list_page("portal/kb_public.html", reseller_id, knowledge.PUBLIC, "portal_public.public")


@public_bp.get("/<int:article_id>")
@public
def public_article(article_id: int):
    article = knowledge.get(require_reseller().id, article_id, knowledge.PUBLIC)
    if article is None:
        abort(404)
    return render_template(
        "portal/kb_public_article.html",
        article=article,
        body=render(article.body),
        back_url="portal_public.public_page",
    )
