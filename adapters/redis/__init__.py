"""Adapters backed by Redis (the broker's server, when the broker is Redis)."""
