"""Brazilian documents and addresses: CNPJ, CPF, CEP, states (phones: :mod:`tenant.phones`)."""

from __future__ import annotations

from tenant.phones import digits

UF = (
    "AC",
    "AL",
    "AP",
    "AM",
    "BA",
    "CE",
    "DF",
    "ES",
    "GO",
    "MA",
    "MT",
    "MS",
    "MG",
    "PA",
    "PB",
    "PR",
    "PE",
    "PI",
    "RJ",
    "RN",
    "RS",
    "RO",
    "RR",
    "SC",
    "SP",
    "SE",
    "TO",
)


def _check_digit(numbers: str, weights: list[int]) -> int:
    total = sum(int(d) * w for d, w in zip(numbers, weights, strict=True))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def is_valid_cpf(value: str) -> bool:
    cpf = digits(value)
    if len(cpf) != 11 or cpf == cpf[0] * 11:
        return False
    first = _check_digit(cpf[:9], list(range(10, 1, -1)))
    second = _check_digit(cpf[:10], list(range(11, 1, -1)))
    return cpf[-2:] == f"{first}{second}"


def is_valid_cnpj(value: str) -> bool:
    cnpj = digits(value)
    if len(cnpj) != 14 or cnpj == cnpj[0] * 14:
        return False
    w1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digit(cnpj[:12], w1)
    second = _check_digit(cnpj[:13], [6, *w1])
    return cnpj[-2:] == f"{first}{second}"


def format_document(kind: str, value: str) -> str:
    d = digits(value)
    if kind == "cnpj" and len(d) == 14:
        return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
    if kind == "cpf" and len(d) == 11:
        return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"
    return d


def format_cep(value: str | None) -> str:
    d = digits(value)
    return f"{d[:5]}-{d[5:]}" if len(d) == 8 else d
