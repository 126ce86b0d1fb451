"""Knowledge base (issue 15): the reseller's articles (Markdown, a category, tags,
visibility public / clients / internal, draft or published) and the desks an article
is about. Both tables carry reseller_id and are protected by reseller
(migrations.tenancy.protect): every client user of the reseller reads its articles
(the rule narrows them to what a client may see).

PostgreSQL's full-text search: ``unaccent`` is not IMMUTABLE (its dictionary could
change), so it cannot appear in an index expression; the usual pattern wraps it in an
IMMUTABLE SQL function naming the dictionary explicitly (``kb_unaccent``), and
``kb_search_document`` builds the weighted Portuguese document (title and tags A, body
B) that the GIN index holds and the search repeats word for word. SQLite searches the
folded copies ``title_search`` and ``body_search`` with LIKE.

Revision ID: 0028_knowledge_base
Revises: 0027_terms_of_use
Create Date: 2026-12-02 20:00:00

"""

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import protect

revision = "0028_knowledge_base"
down_revision = "0027_terms_of_use"
branch_labels = None
depends_on = None

UNACCENT = """
CREATE OR REPLACE FUNCTION kb_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""
DOCUMENT = """
CREATE OR REPLACE FUNCTION kb_search_document(title text, tags text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT
  setweight(to_tsvector('pg_catalog.portuguese', kb_unaccent(coalesce(title, '') || ' ' || coalesce(tags, ''))), 'A')
  || setweight(to_tsvector('pg_catalog.portuguese', kb_unaccent(coalesce(body, ''))), 'B') $$
"""


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute(UNACCENT)
        op.execute(DOCUMENT)
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("tags", sa.String(length=300), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("author_account_id", sa.Integer(), nullable=True),
        sa.Column("title_search", sa.String(length=200), nullable=False),
        sa.Column("body_search", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_kb_articles_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_account_id"],
            ["accounts.id"],
            name=op.f("fk_kb_articles_author_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index("ix_kb_articles_list", "kb_articles", ["reseller_id", "status", "visibility", "category"])
    if postgres:
        op.create_index(
            "ix_kb_articles_search",
            "kb_articles",
            [sa.text("kb_search_document(title, tags, body)")],
            postgresql_using="gin",
        )
    op.create_table(
        "kb_article_desks",
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name=op.f("fk_kb_article_desks_reseller_id_resellers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_desks_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_kb_article_desks_desk_id_desks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "desk_id", name=op.f("pk_kb_article_desks")),
    )
    op.create_index("ix_kb_article_desks_desk_id", "kb_article_desks", ["desk_id"])
    if postgres:
        protect("kb_articles", by_client=False)
        protect("kb_article_desks", by_client=False)


def downgrade():
    op.drop_index("ix_kb_article_desks_desk_id", table_name="kb_article_desks")
    op.drop_table("kb_article_desks")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_kb_articles_search", table_name="kb_articles")
    op.drop_index("ix_kb_articles_list", table_name="kb_articles")
    op.drop_table("kb_articles")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kb_search_document(text, text, text)")
        op.execute("DROP FUNCTION IF EXISTS kb_unaccent(text)")
