"""Alembic migrations of taskhub's schema (a package so it ships with the code)."""
