"""Worked examples from the docs: real code, run by tests/docs, never loaded unless asked for."""
