"""Valid Brazilian documents for seed data: CNPJ and CPF numbers with their check digits,
made from a number so that every run makes the same ones."""

from __future__ import annotations


def make_cnpj(seed: int) -> str:
    """A valid CNPJ built from ``seed`` (check digits computed)."""
    base = f"{seed % 10**8:08d}0001"
    w1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]

    def dv(nums, weights):
        rest = sum(int(d) * w for d, w in zip(nums, weights, strict=True)) % 11
        return "0" if rest < 2 else str(11 - rest)

    first = dv(base, w1)
    return base + first + dv(base + first, [6, *w1])


def make_cpf(seed: int) -> str:
    base = f"{seed % 10**9:09d}"

    def dv(nums):
        weights = range(len(nums) + 1, 1, -1)
        rest = sum(int(d) * w for d, w in zip(nums, weights, strict=True)) % 11
        return "0" if rest < 2 else str(11 - rest)

    first = dv(base)
    return base + first + dv(base + first)
