"""Temporary re-export shim (issue 11): now :mod:`tenant.clients`. Only
reseller/views/client_forms.py still imports it; remove once it imports tenant.clients."""

from tenant.clients import (
    ClientData,
    ClientRejected,
    _store_photo,
    active_custom_fields,
    client_users,
    create_client,
    inactivate_client,
    reactivate_client,
    update_client,
)

__all__ = [
    "ClientData",
    "ClientRejected",
    "_store_photo",
    "active_custom_fields",
    "client_users",
    "create_client",
    "inactivate_client",
    "reactivate_client",
    "update_client",
]
