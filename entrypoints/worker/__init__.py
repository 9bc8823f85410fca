"""The Celery side: the worker app, the runner that drives a task type through the use cases,
and the periodic maintenance jobs."""
