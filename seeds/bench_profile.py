"""The shape of the benchmark data set (QUALITY.md): hosts and passwords, plans, names,
and how clients, payments and users are distributed; the columns each pass writes."""

from __future__ import annotations

from tenant.models import fold

BENCH_HOST = "bench.localhost"
BENCH_OWNER = "owner@bench.test"
BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 - published, like the demo password
OTHER_RESELLERS = (("Revenda Norte", "norte.bench.localhost"), ("Revenda Sul", "sul.bench.localhost"))
OTHER_CLIENTS = 3000
SEED = 2026
GRACE_DAYS = 5  # the reseller default: overdue beyond this suspends

# (name, price in cents, sessions per period, share of the clients on a plan, retired)
PLANS = (
    ("Básico", 9900, 300, 50, False),
    ("Profissional", 19900, 1000, 32, False),
    ("Empresarial", 49900, 5000, 13, False),
    ("Start (antigo)", 4900, 100, 5, True),
)
KINDS = (
    "Padaria", "Mercado", "Clínica", "Oficina", "Farmácia", "Loja", "Escritório", "Academia",
    "Pet Shop", "Restaurante", "Salão", "Ótica", "Papelaria", "Auto Peças", "Imobiliária",
    "Construtora", "Lavanderia", "Floricultura", "Livraria", "Distribuidora", "Transportadora",
    "Contabilidade", "Escola", "Hotel", "Café", "Açougue", "Marcenaria", "Studio", "Agência",
    "Consultório",
)  # fmt: skip
NAMES = (
    "São João", "Boa Vista", "Central", "Ipê", "Aurora", "Paraná", "Horizonte", "Estrela",
    "Jardim", "Atlântico", "Bom Preço", "Vida", "Sorriso", "Pão Quente", "Nova Era", "Primavera",
    "Santa Luzia", "Bela Vista", "Progresso", "Esperança", "Sol Nascente", "Vitória", "Alvorada",
    "Serra Azul", "Rio Branco", "Itaúna", "Ouro Verde", "Mar Azul", "Ponto Certo", "Família",
)  # fmt: skip
QUALIFIERS = ("", "", "", "", "", "", "Express", "& Cia", "do Centro", "Prime", "Mais", "da Vila", "24h")
FIRST_NAMES = (
    "Maria", "José", "Ana", "João", "Antônio", "Francisca", "Carlos", "Paulo", "Adriana", "Lucas",
    "Juliana", "Marcos", "Patrícia", "Luiz", "Fernanda", "Gabriel", "Aline", "Rafael", "Camila", "Pedro",
)  # fmt: skip
SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
    "Machado", "Mendes", "Freitas",
)  # fmt: skip
FIRST_FOLDED = tuple(fold(n) for n in FIRST_NAMES)
SURNAMES_FOLDED = tuple(fold(n) for n in SURNAMES)
ACTIVITIES = (
    "Comércio de Alimentos", "Serviços", "Comércio e Serviços", "Comércio Varejista",
    "Serviços Médicos", "Tecnologia", "Participações", "Distribuição",
)  # fmt: skip
LEGAL_SUFFIXES = ("Ltda",) * 11 + ("ME",) * 3 + ("Ltda - ME",) * 2 + ("EPP",) * 2 + ("EIRELI", "S.A.")
CITIES = (
    ("São Paulo", "SP", 11), ("Rio de Janeiro", "RJ", 21), ("Belo Horizonte", "MG", 31),
    ("Curitiba", "PR", 41), ("Porto Alegre", "RS", 51), ("Brasília", "DF", 61), ("Salvador", "BA", 71),
    ("Recife", "PE", 81), ("Fortaleza", "CE", 85), ("Goiânia", "GO", 62), ("Florianópolis", "SC", 48),
    ("Vitória", "ES", 27), ("Campinas", "SP", 19), ("Manaus", "AM", 92), ("Belém", "PA", 91),
)  # fmt: skip
SLA_LEVELS = ("basic",) * 30 + ("standard",) * 55 + ("premium",) * 15
# Card, boleto and PIX go through Stripe; transfer and cash are recorded by staff.
PAYMENT_TYPES = ("pix",) * 35 + ("boleto",) * 28 + ("card",) * 27 + ("transfer",) * 7 + ("cash",) * 3
# The latest payment of a client on a plan; older ones are nearly all paid.
LATEST_STATUSES = ("paid",) * 80 + ("pending",) * 8 + ("overdue",) * 7 + ("failed",) * 3 + ("refunded",) * 2
MANUAL_REASONS = ("Solicitação do cliente", "Contrato em revisão", "Uso indevido da plataforma", "Chargeback")
EXTRA_PACKS = (0,) * 15 + (50, 50, 100, 250, 500)
CHAT_LEVELS = (1,) * 15 + (2,) * 20 + (3,) * 20 + (4,) * 15 + (5,) * 10 + (6,) * 20
STATUS_CODE = {"paid": "P", "pending": "N", "overdue": "O", "failed": "F", "refunded": "R"}
CODE_STATUS = {v: k for k, v in STATUS_CODE.items()}
ALL_WORKSPACE_PERMISSIONS = '["manage_users", "portal", "reports"]'

CLIENT_COLUMNS = (
    "id", "reseller_id", "trade_name", "legal_name", "trade_name_search", "legal_name_search",
    "trade_name_sort", "legal_name_sort", "email",
    "phone", "document_type", "document", "sla_level", "postal_code", "street", "street_number",
    "district", "city", "state", "responsible_account_id", "plan_id", "plan_name", "status",
    "sessions_quota", "sessions_consumed", "extra_balance", "suspended", "suspension_reason", "due_date",
    "last_payment_date", "payment_type", "payment_status", "created_at", "updated_at", "inactivated_at",
)  # fmt: skip
LOGIN_COLUMNS = (
    "id", "reseller_id", "email", "password_hash", "totp_last_step", "failed_logins", "created_at",
    "verified_at", "last_login_at",
)  # fmt: skip
ACCOUNT_COLUMNS = (
    "id", "reseller_id", "login_id", "client_id", "kind", "name", "active", "chat_level", "view_phones",
    "permissions", "created_at",
)  # fmt: skip
SUBSCRIPTION_COLUMNS = (
    "id", "reseller_id", "client_id", "plan_id", "status", "payment_method", "current_period_start",
    "current_period_end", "created_at", "cancelled_at",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "reseller_id", "client_id", "subscription_id", "description", "amount_cents", "payment_type", "status",
    "due_date", "paid_at", "created_at",
)  # fmt: skip
SUSPENSION_COLUMNS = ("reseller_id", "client_id", "action", "reason", "created_at")
CONTACT_COLUMNS = ("id", "reseller_id", "client_id", "name", "phone", "created_at")
WINDOW_COLUMNS = ("reseller_id", "client_id", "contact_id", "source", "opened_at", "expires_at")
