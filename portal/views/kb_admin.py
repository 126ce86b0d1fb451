"""The staff pages of the knowledge base (``/reseller/kb``): the articles (search,
filters by status, visibility and category), a new or changed article with a preview,
publishing and unpublishing, deleting with a confirmation."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from auth.access import current_account
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from desk.models import Desk
from portal import knowledge
from portal.forms import ArticleForm
from portal.markdown_html import render
from portal.models import MAX_BODY_CHARS, KbArticle
from portal.states import ArticleStatus, Visibility
from portal.views.blueprints import kb_staff_bp


def visibility_labels() -> dict[str, str]:
    return {
        Visibility.PUBLIC: _("Public (anyone, on the public page too)"),
        Visibility.CLIENTS: _("Clients (your clients' users)"),
        Visibility.INTERNAL: _("Internal (staff only)"),
    }


def status_labels() -> dict[str, str]:
    return {ArticleStatus.DRAFT: _("Draft"), ArticleStatus.PUBLISHED: _("Published")}


def _desks(reseller_id: int) -> list[Desk]:
    return list(db.session.scalars(select(Desk).where(Desk.reseller_id == reseller_id).order_by(Desk.name)))


@kb_staff_bp.get("")
def articles():
    reseller = require_reseller()
    filters = {name: request.args.get(name) or "" for name in ("q", "status", "visibility", "category")}
    rows = knowledge.search(
        reseller.id,
        knowledge.STAFF,
        filters["q"],
        status=filters["status"],
        visibility=filters["visibility"],
        category=filters["category"],
    )
    return render_template(
        "portal/kb_admin.html",
        articles=rows,
        filters=filters,
        categories=knowledge.categories(reseller.id, knowledge.STAFF),
        visibilities=visibility_labels(),
        statuses=status_labels(),
    )


def _input(form: ArticleForm) -> knowledge.ArticleInput:
    return knowledge.ArticleInput(
        title=form.title.data,
        body=form.body.data,
        category=form.category.data,
        tags=form.tags.data,
        visibility=form.visibility.data,
        desk_ids=tuple(form.desk_ids.data or ()),
    )


def _form_page(form: ArticleForm, article: KbArticle | None, *, preview=None, error=None, status: int = 200):
    reseller = require_reseller()
    form.visibility.choices = list(visibility_labels().items())
    form.desk_ids.choices = [(desk.id, desk.name) for desk in _desks(reseller.id)]
    return render_template(
        "portal/kb_form.html",
        form=form,
        article=article,
        preview=preview,
        error=error,
        max_chars=MAX_BODY_CHARS,
        statuses=status_labels(),
    ), status


def _save(form: ArticleForm, article: KbArticle | None):
    reseller = require_reseller()
    data = _input(form)
    if form.action.data == "preview":
        try:
            cleaned = knowledge.clean(reseller.id, data)
        except knowledge.ArticleRejected as exc:
            return _form_page(form, article, error=str(exc), status=422)
        return _form_page(form, article, preview=render(cleaned.body))
    try:
        if article is None:
            article = knowledge.create(reseller.id, data, current_account)
        else:
            knowledge.update(article, data)
    except knowledge.ArticleRejected as exc:
        db.session.rollback()
        return _form_page(form, article, error=str(exc), status=422)
    db.session.commit()
    flash(_("Article saved."), "success")
    return redirect(url_for("portal_kb.edit_page", article_id=article.id))


@kb_staff_bp.get("/new")
def new_page():
    return _form_page(ArticleForm(visibility=Visibility.CLIENTS), None)


@kb_staff_bp.post("/new")
def create():
    return _save(ArticleForm(), None)


@kb_staff_bp.get("/<int:article_id>")
def edit_page(article_id: int):
    article = get_or_404(KbArticle, article_id)
    form = ArticleForm(obj=article)
    form.desk_ids.data = [link.desk_id for link in article.desks]
    return _form_page(form, article, preview=render(article.body))


@kb_staff_bp.post("/<int:article_id>")
def update(article_id: int):
    return _save(ArticleForm(), get_or_404(KbArticle, article_id, for_update=True))


@kb_staff_bp.post("/<int:article_id>/publish")
def publish(article_id: int):
    article = get_or_404(KbArticle, article_id, for_update=True)
    if request.form.get("action") == "unpublish":
        knowledge.unpublish(article)
        message = _("Article back to draft: only staff read it.")
    else:
        knowledge.publish(article)
        message = _("Article published.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("portal_kb.edit_page", article_id=article.id))


@kb_staff_bp.get("/<int:article_id>/delete")
def delete_page(article_id: int):
    return render_template("portal/kb_delete.html", article=get_or_404(KbArticle, article_id))


@kb_staff_bp.post("/<int:article_id>/delete")
def delete(article_id: int):
    article = get_or_404(KbArticle, article_id, for_update=True)
    title = article.title
    knowledge.remove(article)
    db.session.commit()
    flash(_("Article %(title)s deleted.", title=title), "success")
    return redirect(url_for("portal_kb.articles"))
