"""What a SIGHUP may change in a running relay, and what waits for a restart.

Reloaded: the rules (actions and lists), the limits, the templates directory, the API
tokens and the log level. Listeners, the store, delivery, DKIM and sender checks are bound at
start-up; a change there is logged as needing a restart and not applied.
"""

from __future__ import annotations

import dataclasses

from relay.config import Config

RELOADABLE_SECTIONS = ("rules", "limits")
RELOADABLE_KEYS = ("templates", "log_level", "api.tokens")


def reloadable(key: str) -> bool:
    return key.split(".")[0] in RELOADABLE_SECTIONS or key in RELOADABLE_KEYS


def differences(old: Config, new: Config) -> list[str]:
    """The keys ("section.key" or "key") whose values differ."""
    changed = []
    for f in dataclasses.fields(Config):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if dataclasses.is_dataclass(a):
            changed += [f"{f.name}.{g.name}" for g in dataclasses.fields(a)
                        if getattr(a, g.name) != getattr(b, g.name)]
        elif a != b:
            changed.append(f.name)
    return changed


def merge(old: Config, new: Config) -> Config:
    """The old config with the reloadable settings of the new one."""
    return old.replace(
        rules=new.rules, limits=new.limits, templates=new.templates, log_level=new.log_level,
        api=dataclasses.replace(old.api, tokens=new.api.tokens))
