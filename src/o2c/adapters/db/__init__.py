"""Persistence on SQLAlchemy Core: SQLite by default, PostgreSQL in production."""
