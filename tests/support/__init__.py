"""Helpers that give integration tests real backing services."""
