"""The API's endpoints, an APIRouter per resource; relay.api.app includes them (its _ROUTERS
is the order of the OpenAPI document's paths)."""
