"""Knowledge base (issue 15): the only writer of ``kb_articles`` and
``kb_article_desks``, and the one place that decides who reads which article.

Staff write articles (title, Markdown body, category, tags, the desks they are about,
visibility) as drafts and publish or unpublish them; every change is audited. Who
reads what: staff every article; a client user the published ones that are public or
for clients; the reseller's public page (no login) the published public ones. Another
reseller's article is never found (``None``: a 404 for the pages).

Search: PostgreSQL's full text (Portuguese stemming over unaccented words, so
"faturas" finds "fatura" and "configuracao" finds "configuração"), ranked with
``ts_rank``, title matches first; SQLite: every word of the query in the folded title
or body (LIKE), title matches first.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, literal_column, or_, select, text

from auth.models import Account
from core import audit
from core.extensions import db
from core.formatting import number
from core.timeutil import utcnow
from desk.models import Desk
from portal.models import (
    CATEGORY_CHARS,
    MAX_BODY_CHARS,
    SEARCH_DOCUMENT,
    TAGS_CHARS,
    TITLE_CHARS,
    KbArticle,
    KbArticleDesk,
)
from portal.states import CLIENT_VISIBILITIES, ArticleStatus, Visibility
from tenant.models import fold

# Who reads: the three audiences of the visibility rule.
STAFF, CLIENT, PUBLIC = "staff", "client", "public"
SEARCH_LIMIT = 50
QUERY_CHARS = 200


class ArticleRejected(ValueError):
    """Nothing was written; the message says why (safe to show)."""


@dataclass(frozen=True)
class ArticleInput:
    """What staff typed in the article form (raw text, checked by :func:`clean`)."""

    title: str | None = ""
    body: str | None = ""
    category: str | None = ""
    tags: str | None = ""
    visibility: str | None = Visibility.CLIENTS
    desk_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CleanArticle:
    title: str
    body: str
    category: str
    tags: str
    visibility: Visibility
    desk_ids: tuple[int, ...]


def _too_long(what: str, length: int, limit: int) -> ArticleRejected:
    return ArticleRejected(
        _(
            "%(what)s is too long: %(length)s characters, at most %(max)s.",
            what=what,
            length=number(length),
            max=number(limit),
        )
    )


def clean(reseller_id: int, data: ArticleInput) -> CleanArticle:
    """The article to write, or :class:`ArticleRejected` with the first reason."""
    title = " ".join((data.title or "").split())
    body = (data.body or "").replace("\r\n", "\n").strip()
    category = " ".join((data.category or "").split())
    tags = ", ".join(t for t in (" ".join(part.split()) for part in (data.tags or "").split(",")) if t)
    if not title:
        raise ArticleRejected(_("Write the article's title."))
    if len(title) > TITLE_CHARS:
        raise _too_long(_("The title"), len(title), TITLE_CHARS)
    if not body:
        raise ArticleRejected(_("Write the article's text."))
    if len(body) > MAX_BODY_CHARS:
        raise _too_long(_("The text"), len(body), MAX_BODY_CHARS)
    if len(category) > CATEGORY_CHARS:
        raise _too_long(_("The category"), len(category), CATEGORY_CHARS)
    if len(tags) > TAGS_CHARS:
        raise _too_long(_("The tags"), len(tags), TAGS_CHARS)
    try:
        visibility = Visibility(data.visibility or "")
    except ValueError:
        raise ArticleRejected(_("Choose who may read the article.")) from None
    desk_ids = tuple(sorted(set(data.desk_ids)))
    if desk_ids:
        own = set(
            db.session.scalars(select(Desk.id).where(Desk.reseller_id == reseller_id, Desk.id.in_(desk_ids)))
        )
        if own != set(desk_ids):
            raise ArticleRejected(_("Choose desks of your own."))
    return CleanArticle(title, body, category, tags, visibility, desk_ids)


def _fill(article: KbArticle, data: CleanArticle) -> None:
    article.title, article.body = data.title, data.body
    article.category, article.tags, article.visibility = data.category, data.tags, data.visibility
    article.title_search = fold(data.title)[:TITLE_CHARS]
    article.body_search = fold(f"{data.tags} {data.body}")
    article.desks = [
        KbArticleDesk(reseller_id=article.reseller_id, desk_id=desk_id) for desk_id in data.desk_ids
    ]


def create(reseller_id: int, data: ArticleInput, actor: Account | None) -> KbArticle:
    """A new draft article (refused with :class:`ArticleRejected`, nothing written)."""
    cleaned = clean(reseller_id, data)
    article = KbArticle(
        reseller_id=reseller_id,
        status=ArticleStatus.DRAFT,
        author_account_id=actor.id if actor is not None else None,
    )
    _fill(article, cleaned)
    db.session.add(article)
    db.session.flush()
    audit.record(
        "kb.article_created", article, details={"title": article.title, "visibility": article.visibility}
    )
    return article


def update(article: KbArticle, data: ArticleInput) -> KbArticle:
    """Change an article (its status stays); refused as :func:`create` is."""
    cleaned = clean(article.reseller_id, data)
    before = {"title": article.title, "visibility": article.visibility, "category": article.category}
    db.session.execute(delete(KbArticleDesk).where(KbArticleDesk.article_id == article.id))
    db.session.expire(article, ["desks"])
    _fill(article, cleaned)
    article.updated_at = utcnow()
    db.session.flush()
    after = {"title": article.title, "visibility": article.visibility, "category": article.category}
    audit.record("kb.article_updated", article, details={"before": before, "after": after})
    return article


def publish(article: KbArticle) -> KbArticle:
    """Publish a draft (publishing a published article changes nothing)."""
    if article.status != ArticleStatus.PUBLISHED:
        article.status = ArticleStatus.PUBLISHED
        article.published_at = utcnow()
        db.session.flush()
        audit.record("kb.article_published", article, details={"visibility": article.visibility})
    return article


def unpublish(article: KbArticle) -> KbArticle:
    """Back to draft: only staff read it again."""
    if article.status != ArticleStatus.DRAFT:
        article.status = ArticleStatus.DRAFT
        db.session.flush()
        audit.record("kb.article_unpublished", article)
    return article


def remove(article: KbArticle) -> None:
    """Delete an article (audited with its title)."""
    audit.record("kb.article_deleted", article, details={"title": article.title})
    db.session.delete(article)
    db.session.flush()


def _readable(audience: str):
    """The conditions an audience's articles meet (beyond the reseller)."""
    if audience == STAFF:
        return ()
    if audience == CLIENT:
        return (KbArticle.status == ArticleStatus.PUBLISHED, KbArticle.visibility.in_(CLIENT_VISIBILITIES))
    if audience == PUBLIC:
        return (KbArticle.status == ArticleStatus.PUBLISHED, KbArticle.visibility == Visibility.PUBLIC)
    raise ValueError(f"unknown audience {audience!r}")


def get(reseller_id: int, article_id: int, audience: str) -> KbArticle | None:
    """One of the reseller's articles this audience may read, else ``None``."""
    return db.session.scalar(
        select(KbArticle).where(
            KbArticle.reseller_id == reseller_id, KbArticle.id == article_id, *_readable(audience)
        )
    )


def categories(reseller_id: int, audience: str) -> list[str]:
    """The categories of the articles this audience reads, in order."""
    return list(
        db.session.scalars(
            select(KbArticle.category)
            .where(KbArticle.reseller_id == reseller_id, KbArticle.category != "", *_readable(audience))
            .distinct()
            .order_by(KbArticle.category)
        )
    )


def search(
    reseller_id: int,
    audience: str,
    query: str | None = None,
    *,
    status: str | None = None,
    visibility: str | None = None,
    category: str | None = None,
    desk_id: int | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[KbArticle]:
    """The audience's articles matching ``query`` (best first) and the filters; without
    a query, by category then title. Articles naming ``desk_id`` come first."""
    stmt = select(KbArticle).where(KbArticle.reseller_id == reseller_id, *_readable(audience))
    if status in set(ArticleStatus):
        stmt = stmt.where(KbArticle.status == status)
    if visibility in set(Visibility):
        stmt = stmt.where(KbArticle.visibility == visibility)
    if category:
        stmt = stmt.where(KbArticle.category == category)
    order = []
    if desk_id:
        names_desk = (
            select(KbArticleDesk.article_id)
            .where(KbArticleDesk.article_id == KbArticle.id, KbArticleDesk.desk_id == desk_id)
            .exists()
        )
        order.append(names_desk.desc())
    words = " ".join((query or "").split())[:QUERY_CHARS]
    if words and db.engine.dialect.name == "postgresql":
        document = literal_column(SEARCH_DOCUMENT)
        tsquery = func.websearch_to_tsquery(
            text("'pg_catalog.portuguese'::regconfig"), func.kb_unaccent(words)
        )
        title_hit = func.to_tsvector(
            text("'pg_catalog.portuguese'::regconfig"), func.kb_unaccent(KbArticle.title)
        ).bool_op("@@")(tsquery)
        stmt = stmt.where(document.bool_op("@@")(tsquery))
        order += [title_hit.desc(), func.ts_rank(document, tsquery).desc()]
    elif words:
        folded = fold(words).split()
        for word in folded:
            like = f"%{_escape(word)}%"
            stmt = stmt.where(
                or_(
                    KbArticle.title_search.like(like, escape="\\"),
                    KbArticle.body_search.like(like, escape="\\"),
                )
            )
        title_hit = KbArticle.title_search.like(f"%{_escape(folded[0])}%", escape="\\")
        order.append(title_hit.desc())
    if not words:
        order += [KbArticle.category, KbArticle.title]
    order.append(KbArticle.id.desc())
    return list(db.session.scalars(stmt.order_by(*order).limit(limit)))


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
