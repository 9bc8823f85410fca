"""Celery and kombu behind the dispatcher port: queue topology, publishing, broker probe."""
