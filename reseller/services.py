"""Shim for one release: creating a reseller moved to ``reseller.resellers`` (issue 11)."""

from reseller.resellers import ResellerRejected, create_reseller

__all__ = ["ResellerRejected", "create_reseller"]
