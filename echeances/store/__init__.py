"""The workspace store: a SQLite file by default, PostgreSQL when a URL is given."""
from echeances.store.database import Store

__all__ = ["Store"]
