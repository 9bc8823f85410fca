"""End-to-end tests: the API, worker and Beat processes on a real database and Redis."""
