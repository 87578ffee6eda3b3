"""The dashboard's one stylesheet (served by the app itself: no CDN, no build step)."""

from fastapi import APIRouter, Response

from api.dashboard.guard import DashboardRoute
from api.dashboard.rendering import STATIC

router = APIRouter(route_class=DashboardRoute)

STYLESHEET = (STATIC / "dashboard.css").read_text(encoding="utf-8")


@router.get("/static/dashboard.css")
async def stylesheet() -> Response:
    return Response(
        STYLESHEET,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
