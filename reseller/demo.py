"""Shim for one release: the demo data moved to ``seeds.demo`` (issue 11)."""

from seeds.demo import DEMO_HOST, DEMO_PASSWORD, make_cnpj, make_cpf, seed_demo

__all__ = ["DEMO_HOST", "DEMO_PASSWORD", "make_cnpj", "make_cpf", "seed_demo"]
