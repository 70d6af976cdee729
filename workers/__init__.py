"""The distributed job system: one Celery app on Redis, its settings, routes and thin tasks.

`app` (the Celery app), `settings` (every setting, with why), `routes` (task -> queue),
`tasks/` (generate, sandbox, compose, train), `worker` (start-up, pinning, warm objects),
`batching` (questions generated together), `recovery`, `transport` and `watchdog` (no accepted
job lost, none committed twice), `jobs` (the client side), `chain` (a job's steps, their chain
and its Redis keys, shared by `jobs` and `watchdog`), `artifacts` (where training writes),
`stack` and `supervisor` (the whole system as processes on one box, `wm stack`), `resources/`
(the Redis template and Flower's config, shipped as package data). The core library never
imports this package; only the `wm` commands do.
"""
