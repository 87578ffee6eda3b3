"""The HTTP door of the service: intake, practitioners and supervisors (FastAPI).

`python -m api` serves it on CSE_API_HOST:CSE_API_PORT; the OpenAPI docs are at /docs.
Every case's I/O goes through its workflow: the API starts cases, sends updates, asks the
`status` query and reads visibility; it never changes a case by itself.
"""
