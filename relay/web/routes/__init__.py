"""The web pages, an APIRouter (with relay.web.errors.WebRoute) per part of the site."""
