"""The demo's client domains (seed 003): a few clients own the domain of their main
e-mail, and one client shows the "criado por e-mail" mark waiting for review."""

from __future__ import annotations

from tenant import domains
from tenant.clients import mark_created_by_email

# Positions in the demo's client list: the clients that get the domain of their e-mail.
WITH_DOMAIN = (0, 1, 2, 24)
# The one created from an unknown sender's e-mail (no plan yet, domain added with it).
CREATED_BY_EMAIL = 24


def seed_domains(clients) -> None:
    for i in WITH_DOMAIN:
        domain = domains.domain_of_email(clients[i].email)
        if domain is not None:
            domains.add_domain(clients[i], domain, actor=None)
    mark_created_by_email(clients[CREATED_BY_EMAIL])
