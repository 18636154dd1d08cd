"""The PostgreSQL backend: the same SQL layer through a translating connection (psycopg 3)."""

from statuswatch.store.pg.store import PgStore

__all__ = ["PgStore"]
