"""Everything Temporal sees, in one place: the names of the task queue, workflows, updates,
queries and activities; the search attribute keys and the visibility queries over them; the
error type names; the activities' requests, answers, timeouts and retry policies.

`workflows`, `activities`, `edge`, `api` and `cli` import this package and `domain`, never
one another's internals (tests/test_layering.py checks it). It imports only `domain`.
"""
