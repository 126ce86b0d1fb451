"""Old path of :mod:`tenant.clients`, kept for reseller/views.py and one test until the merge."""

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
