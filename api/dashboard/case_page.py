"""One case: its stage and where it is on each track beside it, clocks with their ladder
steps, every screening and review with what changed since the one before, its strategy
discussions, timeline and pathway diagram, the child's age at referral, whether looked after
and the placing and host authorities by their directory names, and the child's earlier
referrals (linked where the reader may open them: api/dashboard/earlier_referrals.py).

The case is opened as the API opens it (api/case_access.py: 404 unknown, 403 another team)
and drawn from the API's own diagram (api/diagram.py). A case that cannot answer is shown as
stuck, with what is wrong and what the operator should do (edge/diagnosis.py).

The page is for those who may read the case (api/auth.py: `read_case`, and its team): only
they see what it records, the screenings' push/pull factors included; an analyst or intake
is refused the whole page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.auth import EVENT_PERMISSIONS, Identity
from api.case_access import CaseNotRunning, ReferralId, open_case
from api.dashboard.diagram import draw
from api.dashboard.earlier_referrals import earlier_for
from api.dashboard.guard import CaseReaderUser, DashboardRoute
from api.dashboard.rendering import render
from api.deps import TemporalClientDep
from api.diagram import case_diagram
from api.errors import CaseStuck
from domain.csv_export import audit_trail_csv, detail_text
from domain.pathway import events_allowed_in, tracks
from domain.screening_changes import with_changes
from domain.status import CaseStatus
from domain.vocabulary import Stage

router = APIRouter(route_class=DashboardRoute)


def events_for(user: Identity, stage: Stage, on_tracks: dict[str, str]) -> list[str]:
    """The events the case's stage and its place on each track allow (the pathway machine
    says which) that this user may record (api/auth.py says who)."""
    return [name for name in events_allowed_in(stage, on_tracks) if user.may_record(name)]


def where_on_tracks(status: CaseStatus) -> list[tuple[str, str]]:
    """(track, state) for each track the case says it is on, in the machine's order."""
    return [
        (track.name, dict(track.states)[status.tracks[track.id]])
        for track in tracks()
        if status.tracks.get(track.id) in dict(track.states)
    ]


def stuck_page(request: Request, err: CaseStuck) -> Response:
    """Not "Temporal is not answering": this case cannot run, why, and what to do; a case
    whose run ended without the pathway closing it needs the operator's attention."""
    heading = (
        "This case needs attention" if isinstance(err, CaseNotRunning) else "This case is stuck"
    )
    context = {"error": err.body, "heading": heading}
    return render(request, "error.html", context, status_code=err.status_code)


@router.get("/cases/{referral_id}")
async def case_page(
    referral_id: ReferralId, request: Request, user: CaseReaderUser, client: TemporalClientDep
) -> Response:
    try:
        case = await open_case(client, referral_id, user, request)
        status = await case.status()
    except CaseStuck as err:
        return stuck_page(request, err)
    mermaid = case_diagram(status)
    session = request.state.session
    context = {
        "case": status,
        "clocks": sorted(status.clocks, key=lambda c: (not c.running, c.due_at)),
        "events": events_for(user, status.stage, status.tracks),
        "tracks": where_on_tracks(status),
        "screenings": with_changes(status.screenings),
        "detail_text": detail_text,
        "managers_events": set(EVENT_PERMISSIONS),
        "drawing": draw(status),
        "mermaid": mermaid,
        "notice": session.take(f"notice:{referral_id}"),
        "earlier": await earlier_for(client, user, status.earlier_referrals),
        "authorities": request.app.state.authorities,  # code -> name, from the directory
    }
    return render(request, "case.html", context)


@router.get("/cases/{referral_id}/history.csv")
async def history_download(
    referral_id: ReferralId, request: Request, user: CaseReaderUser, client: TemporalClientDep
) -> Response:
    """The audit trail as the API's CSV (spreadsheet-safe cells)."""
    try:
        case = await open_case(client, referral_id, user, request)
        status = await case.status()
    except CaseStuck as err:
        return stuck_page(request, err)
    return Response(
        audit_trail_csv(status.history),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="case-{referral_id}-history.csv"'},
    )
