"""Persistence contract tests: the same behaviour from the in-memory and the SQL adapters."""
