"""Extensions, created unbound at import time and bound in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from core import scope, transactions

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose PostgreSQL engines apply the tenancy scope (core.scope)."""

    def _make_engine(self, bind_key, options, app):
        engine = super()._make_engine(bind_key, options, app)
        scope.install(engine, app.config.get("DATABASE_RUNTIME_ROLE"))
        transactions.install(engine)
        return engine


db = TenantSQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
