"""The supervisors' and practitioners' dashboard: server-rendered HTML on the API's own rules.

Pages under /dashboard/: the caseload, the forecast, one case (stage, clocks, timeline,
pathway diagram), a form per practitioner event and the intake form. No script, no build
step: Jinja2 templates (autoescaped) and one stylesheet. Signing in takes a bearer token the
API accepts; the browser keeps the session, sealed, and never the token
(api/dashboard/sessions.py).
"""

from fastapi import FastAPI

from api.dashboard import assets, case_page, caseload, event_forms, login, reports_page
from api.dashboard.sessions import SessionSealer, session_keys


def install(app: FastAPI) -> None:
    """Mount the dashboard's pages on the API app (kept out of the OpenAPI document)."""
    app.state.dashboard_sessions = SessionSealer(session_keys(app.state.settings))
    for module in (login, caseload, case_page, event_forms, reports_page, assets):
        app.include_router(module.router, prefix="/dashboard", include_in_schema=False)
