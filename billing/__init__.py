"""Plans, subscriptions, payments, sessions and suspension."""


def init_app(app) -> None:
    from billing import models  # noqa: F401 - registers the tables
