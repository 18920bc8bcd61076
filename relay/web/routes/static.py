"""The pages' CSS and script, served by the relay itself (no CDN), from the package."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from relay.web.errors import WebError, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/static/{name}")
async def static(request: Request, name: str) -> Response:
    found = request.app.state.web_static.files.get(name)
    if found is None:
        raise WebError(404)
    data, media_type = found
    # The URL carries the content's hash (pages.Static.url): a day in the cache is safe.
    return Response(data, media_type=media_type,
                    headers={"Cache-Control": "public, max-age=86400"})
