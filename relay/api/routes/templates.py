"""The templates a seller may send (POST /v1/conversations/{id}/messages)."""

from fastapi import APIRouter

from relay.api import models
from relay.api.deps import Running, Who, need

router = APIRouter(tags=["messages"])


@router.get("/v1/templates", response_model=list[models.Template])
async def list_templates(who: Who, relay: Running) -> list[models.Template]:
    need(who, "admin", "seller")
    return [models.Template(id=t.id, type=t.type, critical=t.critical,
                            attachments=t.attachments, languages=sorted(t.texts),
                            variables=list(t.variables))
            for t in relay.templates.values()]
