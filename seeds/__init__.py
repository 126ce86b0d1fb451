"""Seed data, above every domain package: the demo data set and the benchmark data set,
and the ``seed`` commands that load them. No domain package imports it."""


def init_app(app) -> None:
    from seeds import cli

    cli.init_app(app)
