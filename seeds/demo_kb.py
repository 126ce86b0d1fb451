"""The demo's knowledge base (issue 15): four short articles of Demo Revenda, one public
(on its public page too), two for its clients, one internal draft; its client users get
the *portal* permission, so the workspace links the knowledge base on the first visit."""

from __future__ import annotations

from sqlalchemy import select

from auth import permissions as perm
from auth.models import CLIENT_USER, Account
from core.extensions import db
from portal import knowledge
from portal.states import Visibility

# (title, category, tags, visibility, published, body)
DEMO_ARTICLES = (
    (
        "Como pagar a sua fatura",
        "Financeiro",
        "boleto, pix, fatura",
        Visibility.PUBLIC,
        True,
        "A fatura chega por e-mail todo mês.\n\n- Pague por **boleto** ou **Pix**;\n"
        "- o pagamento é reconhecido em até 2 dias úteis.",
    ),
    (
        "Configuração do WhatsApp no atendimento",
        "Atendimento",
        "whatsapp, canal",
        Visibility.CLIENTS,
        True,
        "1. Abra **Caixa de entrada**.\n2. Leia o QR code com o celular da empresa.\n"
        "3. Envie uma mensagem de teste.",
    ),
    (
        "Como convidar usuários da sua equipe",
        "Conta",
        "usuários, convite",
        Visibility.CLIENTS,
        True,
        "Em **Usuários**, clique em *Convidar* e informe o e-mail da pessoa.",
    ),
    (
        "Roteiro interno: cobrança em atraso",
        "Financeiro",
        "cobrança",
        Visibility.INTERNAL,
        False,
        "Antes de suspender, ligue para o cliente e registre a conversa no chamado.",
    ),
)


def seed_knowledge_base(reseller, owner_login) -> None:
    """The reseller's demo articles, written by its owner."""
    owner = next((a for a in owner_login.accounts if a.is_staff), None)
    for title, category, tags, visibility, published, body in DEMO_ARTICLES:
        data = knowledge.ArticleInput(title, body, category, tags, visibility)
        article = knowledge.create(reseller.id, data, owner)
        if published:
            knowledge.publish(article)
    users = select(Account).where(Account.reseller_id == reseller.id, Account.kind == CLIENT_USER)
    for account in db.session.scalars(users):
        if perm.PORTAL not in (account.permissions or []):
            account.permissions = [*(account.permissions or []), perm.PORTAL]
    db.session.flush()
