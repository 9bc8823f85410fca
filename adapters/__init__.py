"""Adapters: the technologies behind the application's ports, and in-memory fakes of each."""
