"""The paths the web pages own: no bearer token (they have their own sign-in), and security
headers on every answer (relay.web.headers)."""

EXACT = frozenset({"/", "/login", "/logout", "/response-time", "/admin", "/admin/login",
                   "/admin/logout", "/admin/buyers", "/admin/audit"})
PREFIXES = ("/conversations/", "/messages/", "/static/", "/admin/conversations/")


def is_web(path: str) -> bool:
    return path in EXACT or path.startswith(PREFIXES)
