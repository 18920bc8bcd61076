"""html.active: what runs, submits, frames or redirects has no place in a message.

Scripts, forms and their controls, frames, objects and embeds, <meta> refreshes, <link>,
<base>, event handlers, and CSS that runs code (expression(), behavior, -moz-binding).
"""

from __future__ import annotations

import re

# Removed with everything inside them.
CONTENT_TAGS = frozenset({
    "script", "style", "title", "template", "iframe", "frame", "frameset", "object", "embed",
    "applet", "noscript", "noembed", "noframes", "svg", "math", "video", "audio", "canvas",
    "select", "textarea", "button", "xml", "picture", "map", "datalist", "dialog", "head",
})
# Seen as active when present at all (their text, if any, is kept as text).
TAGS = CONTENT_TAGS - {"style", "title", "head", "picture", "map", "xml"} | {
    "form", "input", "meta", "link", "base", "source", "track", "bgsound", "param", "portal",
}
_CODE_CSS = re.compile(r"expression\s*\(|behavio(?:u)?r\s*:|-moz-binding|javascript:",
                       re.IGNORECASE)


def handler(attribute: str) -> bool:
    return attribute.lower().startswith("on")


def runs_code(css: str) -> bool:
    return bool(_CODE_CSS.search(css))
