"""image.tracker: remote images of every kind, hidden and 1x1 images, CSS url() beacons.

Only images carried in the message itself (cid:) may stay, and only when they are visible:
a remote image tells the sender when, where and on what the mail was read.
"""

from __future__ import annotations

import re

# Attributes that fetch an image (srcset, background, poster...) beyond img's own src.
IMAGE_ATTRIBUTES = frozenset({"srcset", "background", "poster", "dynsrc", "lowsrc", "longdesc"})
_FETCHES = re.compile(r"url\s*\(|image-set\s*\(|image\s*\(|@import|src\s*:", re.IGNORECASE)
_HIDDEN = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)"
    r"|(?:^|[;\s])(?:max-)?(?:width|height)\s*:\s*[01](?:\.\d+)?(?:px)?\s*(?:;|$)",
    re.IGNORECASE,
)


def remote(src: str) -> bool:
    """Any image source but a part of this message."""
    return not src.strip().lower().startswith("cid:")


def fetches(css: str) -> bool:
    """A declaration that loads something: url(), image-set(), @import."""
    return bool(_FETCHES.search(css))


def hidden(attrs: dict[str, str]) -> bool:
    """An image nobody is meant to see: 0 or 1 pixel wide or high, or hidden by style."""
    for size in ("width", "height"):
        value = attrs.get(size, "").strip().lower().removesuffix("px")
        if value.replace(".", "", 1).isdigit() and float(value) <= 1:
            return True
    return bool(_HIDDEN.search(attrs.get("style", "")))
