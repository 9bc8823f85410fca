"""What taskhub is measured against: raw Celery, and a bare FastAPI app in front of it."""
