"""Celery app, routes, settings and thin tasks that call `worldmodel` and `sandbox`.

Filled by the distributed-system issue.
"""
