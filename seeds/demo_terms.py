"""The demo's terms of use (issue 15): the first version of Demo Revenda's terms, so a
client user is asked to accept them on the first visit to the workspace."""

from __future__ import annotations

from portal import terms

DEMO_TERMS = """# Termos de uso da Demo Revenda

Bem-vindo ao espaço de atendimento da **Demo Revenda**. Ao usar o serviço, você concorda com:

- usar o atendimento apenas para assuntos da sua empresa;
- manter a sua senha em sigilo e avisar o suporte se suspeitar de uso indevido;
- respeitar os contatos atendidos e a [Lei Geral de Proteção de Dados](https://www.gov.br/lgpd);
- pagar as faturas do seu plano até o vencimento.

Dúvidas? Escreva para suporte@demo.test.
"""


def seed_terms(reseller, owner_login) -> None:
    """Version 1 of the reseller's terms, published by its owner."""
    owner = next((a for a in owner_login.accounts if a.is_staff), None)
    terms.publish(reseller.id, DEMO_TERMS, owner)
