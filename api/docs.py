"""The API's own docs at /docs: Swagger UI served from this app, never from a CDN.

FastAPI's default /docs page loads Swagger UI's script and stylesheet from a public CDN: blank
on a network without the internet, and elsewhere a third party's script running beside an API
that holds children's records. Here the files come from the pinned, hashed
`swagger-ui-bundle-v2` wheel (requirements/*.lock) and are served under /docs/assets/; the page
carries the dashboard's content security policy (api/dashboard/guard.py), widened only by what
Swagger UI needs: its own script, the one start-up script FastAPI writes inline (allowed by its
hash, so no other inline script runs), asking this API for /openapi.json and the calls tried,
and the `data:` icons of its stylesheet. ReDoc is off: no wheel ships it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
SWAGGER_UI: Path = Path(str(swagger_ui_path))
FILES = {  # the only files of the wheel served: no index.html pointing at a demo spec
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# Swagger UI's default validator is a public service it would show a badge from.
PARAMETERS = {"validatorUrl": None}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_page(app: FastAPI) -> HTMLResponse:
    """Swagger UI's page, every file it loads one of ours."""
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title}: API docs",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=PARAMETERS,
    )


def content_security_policy(page: bytes) -> str:
    """The dashboard's policy, and what Swagger UI needs (the module's docstring says why)."""
    inline = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(page.decode())
    ]
    return (
        f"default-src 'none'; script-src 'self' {' '.join(inline)}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def install(app: FastAPI) -> None:
    """/docs and its assets on `app`, which must be built with `docs_url=None`."""
    page = bytes(docs_page(app).body)
    headers = {
        "Content-Security-Policy": content_security_policy(page),
        "X-Content-Type-Options": "nosniff",
    }

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    @app.get(f"{ASSETS}/{{name}}", include_in_schema=False)
    async def swagger_ui_asset(name: str) -> FileResponse:
        if name not in FILES:
            raise HTTPException(404, f"the docs have no file {name}")
        return FileResponse(
            SWAGGER_UI / name,
            media_type=FILES[name],
            headers=headers | {"Cache-Control": "public, max-age=86400"},
        )
