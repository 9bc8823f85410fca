"""The Celery side: the worker app, a thin binding of each task type to the RunTask use
case (application/running/run_task.py), and the periodic maintenance jobs."""
