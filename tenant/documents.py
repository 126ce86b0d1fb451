"""Brazilian documents and contact data: CNPJ, CPF, CEP, phone numbers."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")
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


def digits(value: str | None) -> str:
    return _NON_DIGITS.sub("", value or "")


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


def normalise_phone(value: str) -> str | None:
    """E.164 for Brazilian numbers (+55 + area code + number); ``None`` if invalid."""
    raw = (value or "").strip()
    d = digits(raw)
    if raw.startswith("+") and not d.startswith("55"):
        return f"+{d}" if 8 <= len(d) <= 15 else None
    if d.startswith("55") and len(d) in (12, 13):
        d = d[2:]
    if len(d) not in (10, 11) or d[0] == "0":
        return None
    return f"+55{d}"


def format_phone(e164: str | None) -> str:
    if not e164:
        return ""
    d = digits(e164)
    if d.startswith("55") and len(d) in (12, 13):
        area, number = d[2:4], d[4:]
        return f"+55 {area} {number[:-4]}-{number[-4:]}"
    return e164


def format_cep(value: str | None) -> str:
    d = digits(value)
    return f"{d[:5]}-{d[5:]}" if len(d) == 8 else d
