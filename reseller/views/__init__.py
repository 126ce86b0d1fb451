"""The reseller panel (``/reseller/...``): one module per page group, all on the one
blueprint of ``reseller.views.blueprint``. Importing this package registers every route."""

from reseller.views import (  # noqa: F401 - each module registers its routes on bp
    audit,
    audit_exports,
    billing,
    client_forms,
    client_page,
    clients,
    deletion,
    domains,
    exports,
    history,
    login_as,
    plans,
    roles,
    settings,
    staff,
    users,
)
from reseller.views.blueprint import bp

__all__ = ["bp"]
