"""Entrypoints: the HTTP API, the Celery worker and beat, the CLI, and the composition root."""
