"""The demo data set: one reseller, ~30 clients covering every list state."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from auth import identity, passwords
from auth import permissions as perm
from auth.models import STAFF, Account, Role
from billing.models import Payment, Plan, Subscription
from billing.summary import refresh_client_summary
from billing.suspension import suspend
from core.extensions import db
from core.models import ResellerHost
from core.timeutil import today_local
from desk.states import StatusKind
from reseller.resellers import create_reseller
from seeds.demo_desks import link_clients, open_demo_ticket, seed_desks
from seeds.demo_domains import seed_domains
from seeds.demo_inbox import seed_inbox, seed_session_history
from seeds.demo_kb import seed_knowledge_base
from seeds.demo_portal import seed_portal
from seeds.demo_terms import seed_terms
from seeds.documents import make_cnpj, make_cpf
from tenant.models import Client, CustomFieldDefinition, CustomFieldValue

DEMO_HOST = "demo.localhost"
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo password
EXTRA_HOSTS = ("localhost", "127.0.0.1")
DEMO_URL = "http://127.0.0.1:5000"

TRADE_NAMES = [
    "Padaria Pão Quente",
    "Auto Peças Rodovia",
    "Clínica Sorriso",
    "Escola Saber Mais",
    "Pet Shop Amigo Fiel",
    "Farmácia Vida",
    "Academia Corpo em Forma",
    "Imobiliária Lar Doce Lar",
    "Restaurante Sabor Mineiro",
    "Ótica Visão Clara",
    "Floricultura Jardim",
    "Oficina do Zé",
    "Livraria Página Nova",
    "Hotel Beira Mar",
    "Contabilidade Exata",
    "Construtora Alicerce",
    "Loja de Móveis Conforto",
    "Salão Beleza Pura",
    "Mercadinho Bom Preço",
    "Transportadora Veloz",
    "Advocacia Justa",
    "Café Grão Dourado",
    "TechSul Informática",
    "Papelaria Criativa",
    "Lavanderia Brilho",
    "Açougue Boi Gordo",
    "Distribuidora Nordeste",
    "Studio Foto Arte",
    "Agência Viaje Bem",
    "Marcenaria São José",
]
LEGAL_SUFFIXES = ["Ltda", "ME", "EIRELI", "S.A.", "Ltda ME"]
CITIES = [
    ("São Paulo", "SP"),
    ("Rio de Janeiro", "RJ"),
    ("Belo Horizonte", "MG"),
    ("Curitiba", "PR"),
    ("Porto Alegre", "RS"),
    ("Recife", "PE"),
    ("Salvador", "BA"),
    ("Fortaleza", "CE"),
    ("Goiânia", "GO"),
    ("Florianópolis", "SC"),
]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(13, 0), tzinfo=UTC).replace(tzinfo=None)


def seed_demo() -> str:
    rnd = random.Random(2026)  # noqa: S311 - demo data, not security
    today = today_local()
    reseller, owner_login = create_reseller(
        name="Demo Revenda",
        host=DEMO_HOST,
        owner_email="owner@demo.test",
        owner_password=DEMO_PASSWORD,
        require_staff_2fa=False,
        # README: "Open http://127.0.0.1:5000"; e-mailed links in the outbox point there.
        canonical_url=DEMO_URL,
    )
    pw_hash = passwords.hash_password(DEMO_PASSWORD)
    reseller.primary_color = "#1f6f5c"
    reseller.support_email = "suporte@demo.test"
    # Clients can buy 100 extra conversations for R$ 49,90 (paid through Stripe).
    reseller.extra_pack_conversations, reseller.extra_pack_price_cents = 100, 4990
    for host in EXTRA_HOSTS:
        if db.session.query(ResellerHost).filter_by(host=host).first() is None:
            reseller.hosts.append(ResellerHost(host=host))
    finance = Role(
        reseller_id=reseller.id,
        name="Financeiro",
        permissions=[perm.CLIENTS, perm.CLIENT_INVOICES, perm.FINANCE_EMAILS, perm.EXTRA_CONVERSATIONS],
    )
    support = Role(
        reseller_id=reseller.id,
        name="Suporte",
        permissions=[perm.CLIENTS, perm.CLIENT_USERS, perm.LOG_IN_AS, perm.DESKS],
    )
    db.session.add_all([finance, support])
    db.session.flush()
    for email, name, role in (
        ("finance@demo.test", "Fernanda Financeiro", finance),
        ("support@demo.test", "Sérgio Suporte", support),
    ):
        login, _ = identity.ensure_login(reseller.id, email)
        login.password_hash = pw_hash
        db.session.add(
            Account(reseller_id=reseller.id, login_id=login.id, kind=STAFF, name=name, role_id=role.id)
        )
    db.session.flush()
    desks = seed_desks(reseller, [a.id for a in db.session.query(Account).filter_by(reseller_id=reseller.id)])

    plans = [
        Plan(
            reseller_id=reseller.id,
            name="Básico",
            price_cents=9990,
            period="monthly",
            sessions_per_period=300,
        ),
        Plan(
            reseller_id=reseller.id,
            name="Profissional",
            price_cents=24990,
            period="monthly",
            sessions_per_period=1000,
        ),
        Plan(
            reseller_id=reseller.id,
            name="Empresarial",
            price_cents=199000,
            period="yearly",
            sessions_per_period=15000,
        ),
        Plan(
            reseller_id=reseller.id,
            name="Legado 2024",
            price_cents=7990,
            period="quarterly",
            sessions_per_period=600,
            retired_at=_at(today - timedelta(days=200)),
        ),
    ]
    db.session.add_all(plans)
    segment = CustomFieldDefinition(
        reseller_id=reseller.id,
        key="segmento",
        label="Segmento",
        field_type="select",
        required=False,
        options=["Varejo", "Serviços", "Saúde", "Indústria"],
        position=1,
    )
    erp = CustomFieldDefinition(
        reseller_id=reseller.id,
        key="codigo_erp",
        label="Código ERP",
        field_type="text",
        required=False,
        position=2,
    )
    db.session.add_all([segment, erp])
    db.session.flush()

    # Each scenario: (plan index or None, subscription status, payment type, payment status,
    #                 suspension, inactivated, open tickets)
    scenarios = [
        (0, "active", "card", "paid", None, False, 0),
        (1, "active", "pix", "paid", None, False, 1),
        (2, "active", "boleto", "paid", None, False, 0),
        (0, "active", "boleto", "pending", None, False, 0),
        (1, "active", "boleto", "overdue", "overdue", False, 0),
        (0, "active", "card", "failed", None, False, 2),
        (1, "active", "transfer", "paid", None, False, 0),
        (2, "active", "cash", "paid", None, False, 0),
        (0, "active", "pix", "refunded", "Contestação de pagamento em análise", False, 0),
        (3, "active", "boleto", "paid", None, False, 0),
        (1, "pending", "pix", "pending", None, False, 0),
        (0, "pending", "boleto", "pending", None, False, 0),
        (None, None, None, None, None, False, 0),
        (None, None, None, None, None, False, 1),
        (None, None, "card", "refunded", None, False, 0),
        (None, None, None, None, None, True, 0),
        (None, None, "boleto", "paid", None, True, 0),
        (0, "active", "card", "overdue", "overdue", False, 0),
        (None, None, None, None, "Solicitação do cliente", False, 0),
        (1, "active", "card", "paid", None, False, 0),
        (2, "active", "pix", "paid", None, False, 0),
        (0, "active", "transfer", "pending", None, False, 0),
        (1, "active", "boleto", "paid", None, False, 0),
        (0, "active", "cash", "paid", None, False, 0),
        (None, None, None, None, None, False, 0),
        (1, "active", "pix", "paid", None, False, 0),
        (0, "active", "card", "paid", None, False, 0),
        (2, "active", "boleto", "failed", None, False, 0),
        (None, None, None, None, None, True, 0),
        (0, "active", "pix", "paid", None, False, 0),
    ]
    clients = []
    for i, (trade, scenario) in enumerate(zip(TRADE_NAMES, scenarios, strict=True)):
        plan_idx, sub_status, pay_type, pay_status, suspension, inactivated, tickets = scenario
        city, state = CITIES[i % len(CITIES)]
        created_day = today - timedelta(days=400 - i * 13)
        use_cpf = i % 7 == 3
        client = Client(
            reseller_id=reseller.id,
            trade_name=trade,
            legal_name=f"{trade.split()[0]} {trade.split()[-1]} Comércio e Serviços {LEGAL_SUFFIXES[i % 5]}",
            email=("contato@" + "".join(c for c in trade.lower() if c.isalnum())[:18] + ".com.br")
            if i != 7
            else "contato@padariapaoquente.com.br",  # two clients may share an e-mail
            phone=f"+55{11 + i % 80}9{8000_0000 + i * 1237:08d}" if i % 5 != 4 else None,
            document_type="cpf" if use_cpf else "cnpj",
            document=make_cpf(123456 + i * 7919) if use_cpf else make_cnpj(11222333 + i * 104729),
            sla_level=("basic", "standard", "premium")[i % 3],
            postal_code=f"{1000000 + i * 3571:08d}",
            street=f"Rua {rnd.choice(['das Flores', 'XV de Novembro', 'Sete de Setembro', 'Tiradentes'])}",
            street_number=str(10 + i * 7),
            district="Centro",
            city=city,
            state=state,
            created_at=_at(created_day),
        )
        db.session.add(client)
        db.session.flush()
        client.custom_values.append(
            CustomFieldValue(
                reseller_id=reseller.id,
                definition_id=segment.id,
                value=segment.options[i % len(segment.options)],
            )
        )
        if i % 3 == 0:
            client.custom_values.append(
                CustomFieldValue(reseller_id=reseller.id, definition_id=erp.id, value=f"ERP-{1000 + i}")
            )
        clients.append(client)

        if plan_idx is not None:
            plan = plans[plan_idx]
            _seed_plan(reseller, client, plan, i, sub_status, pay_type, pay_status, today, created_day)
            if sub_status == "active":
                # Sessions consumed are windows that really opened this period (the client
                # page counts and charts them), one contact's window a day at most.
                period_start = db.session.scalar(
                    select(Subscription.current_period_start).where(Subscription.client_id == client.id)
                )
                wanted = min(plan.sessions_per_period, (i * 37) % 90)
                client.sessions_consumed = seed_session_history(reseller, client, wanted, period_start, today)
                client.extra_balance = (0, 0, 50, 0, 100)[i % 5]
        elif pay_status:
            db.session.add(
                Payment(
                    reseller_id=reseller.id,
                    client_id=client.id,
                    description="Pacote de conversas extras",
                    amount_cents=4990,
                    payment_type=pay_type,
                    status=pay_status,
                    due_date=today - timedelta(days=90),
                    paid_at=_at(today - timedelta(days=90)) if pay_status in ("paid", "refunded") else None,
                    created_at=_at(today - timedelta(days=92)),
                )
            )
        db.session.flush()
        refresh_client_summary(client)
        if suspension:
            suspend(client, suspension, overdue=suspension == "overdue")
        for t in range(tickets):
            kind = StatusKind.OPEN if t == 0 else StatusKind.PENDING_REVIEW
            open_demo_ticket(
                desks[0], client, f"Dúvida sobre o atendimento #{t + 1}", kind, _at(today - timedelta(days=t))
            )
        open_demo_ticket(desks[0], client, "Configuração inicial", StatusKind.CLOSED, _at(created_day))
        if inactivated:
            client.inactivated_at = _at(today - timedelta(days=20))

    link_clients(desks, clients)
    # Users: the responsible user of each client, plus the named demo users.
    for client in clients:
        account = identity.add_client_user(
            reseller_id=reseller.id,
            client_id=client.id,
            email=client.email,
            name=f"Responsável {client.trade_name.split()[0]}",
        )
        client.responsible_account_id = account.id
        if account.login.password_hash is None:
            account.login.password_hash = pw_hash
    agent = identity.add_client_user(
        reseller_id=reseller.id, client_id=clients[0].id, email="agent@demo.test", name="Ana Atendente"
    )
    multi_a = identity.add_client_user(
        reseller_id=reseller.id, client_id=clients[1].id, email="multi@demo.test", name="Marcos Multi"
    )
    identity.add_client_user(
        reseller_id=reseller.id, client_id=clients[2].id, email="multi@demo.test", name="Marcos Multi"
    )
    for account in (agent, multi_a):
        account.login.password_hash = pw_hash
    agent.chat_level = 3
    db.session.flush()
    seed_inbox(reseller, clients[0], agent)
    seed_domains(clients)
    seed_terms(reseller, owner_login)
    seed_knowledge_base(reseller, owner_login)
    owner_id = db.session.scalar(
        select(Account.id).where(Account.login_id == owner_login.id, Account.reseller_id == reseller.id)
    )
    seed_portal(clients, agent, desks[0], owner_id)
    return (
        f"Demo reseller '{reseller.name}' at http://127.0.0.1:5000 with {len(clients)} clients. "
        f"Log in as owner@demo.test / {DEMO_PASSWORD}."
    )


# The demo holds still for this many days after seeding: the periodic sweeps
# (billing.deadlines: roll-over, overdue, suspension) find nothing to do until then.
STILL_FOR_DAYS = 7


def _seed_plan(reseller, client, plan, i, sub_status, pay_type, pay_status, today, created_day) -> None:
    """A client's plan with its invoices, dated from ``today`` so that the sweeps keep
    the picture for :data:`STILL_FOR_DAYS`: every period ends later than that, every
    open invoice is due later than that, and an overdue one is already past the grace
    days (the client is suspended when seeded, as the sweep would have done)."""
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[plan.period]
    if pay_status == "overdue":
        start = today - timedelta(days=8 + i % 5)  # unpaid since the period began
    else:
        start = today - timedelta(days=1 + (i * 7) % 21)  # 1 to 21 days into the period
    end = start + timedelta(days=30 * months)
    if sub_status == "pending":
        # Waiting for the first payment. The app keeps a plan pending only while its
        # invoice is due today, which the sweep would find overdue tomorrow: here it is
        # due after the demo's first week, so the state holds.
        due = today + timedelta(days=STILL_FOR_DAYS + 3 + i % 5)
        invoices = [(pay_status, "plan", due, today - timedelta(days=1))]
        start = end = None
    elif pay_status in ("pending", "failed"):
        # The current period is paid; the next one's invoice was issued ahead, due when
        # this period ends (a failed card can be tried again until then).
        invoices = [
            ("paid", "plan", start, start - timedelta(days=2)),
            (pay_status, "renewal", end, today - timedelta(days=1)),
        ]
    else:
        previous = start - timedelta(days=30 * months)
        invoices = [
            ("paid", "plan", previous, previous - timedelta(days=2)),
            (pay_status, "plan", start, start - timedelta(days=2)),
        ]
    sub = Subscription(
        reseller_id=reseller.id,
        client_id=client.id,
        plan_id=plan.id,
        status=sub_status,
        payment_method="stripe" if pay_type in ("card", "boleto", "pix") else "manual",
        current_period_start=start,
        current_period_end=end,
        created_at=_at(created_day),
    )
    db.session.add(sub)
    db.session.flush()
    for status, kind, due, issued in invoices:
        db.session.add(
            Payment(
                reseller_id=reseller.id,
                client_id=client.id,
                subscription_id=sub.id,
                description=plan.name if kind == "plan" else f"{plan.name} {due:%m/%Y}",
                amount_cents=plan.price_cents,
                payment_type=pay_type,
                status=status,
                due_date=due,
                kind=kind,
                paid_at=_at(due) if status == "paid" else None,
                created_at=_at(issued),
            )
        )


__all__ = ["DEMO_HOST", "DEMO_PASSWORD", "DEMO_URL", "EXTRA_HOSTS", "make_cnpj", "make_cpf", "seed_demo"]
