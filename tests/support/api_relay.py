"""`relay serve` with its HTTP API on, as the operations tests run it: loopback ports, every
file in tmp_path, delivery to the capture server, text logs at INFO."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import dkim_key, store_url

from relay.api import tokens as api_tokens
from support.ports import free_ports
from support.relay_process import RelayProcess, relay_toml


def api_relay_settings(tmp_path: Path, smtp_port: int, api_port: int, sink_port: int,
                       tokens: list[str]) -> dict[str, Any]:
    """The config, as a dict of top-level keys and sections (tokens: config entries)."""
    return {
        "domain": "relay.test", "shutdown_grace": 5.0, "log_level": "INFO",
        "templates": tmp_path / "templates",
        "smtp": {"host": "127.0.0.1", "port": smtp_port},
        "store": {"path": tmp_path / "relay.db",
                  **({"url": url} if (url := store_url(tmp_path / "relay.db")) else {})},
        "delivery": {"mode": "smtp", "smtp_host": "127.0.0.1", "smtp_port": sink_port,
                     "retry_initial": 0.2, "retry_max": 1.0, "poll_interval": 0.1,
                     "bounce_key": tmp_path / "bounce.key"},
        "dkim": {"key": dkim_key(tmp_path)},
        "submission": {"enabled": False},
        "api": {"host": "127.0.0.1", "port": api_port, "tokens": tokens},
        "log": {"format": "text"},
        "limits": {"conversation_per_hour": 20},
        "rules": {"contact_phone": "redact"},
    }


def admin_token() -> tuple[str, str]:
    """A new admin token and its config entry."""
    token = api_tokens.new_token()
    return token, api_tokens.entry("admin", token)


async def start_api_relay(tmp_path: Path, processes: list[RelayProcess], sink_port: int,
                          tokens: list[str], **changes: Any) -> RelayProcess:
    """Write tmp_path/relay.toml (`changes` update a section, or replace a top-level key),
    start the relay and wait for the last line of a complete start (the API's)."""
    settings = api_relay_settings(tmp_path, *free_ports(2, (sink_port,)), sink_port, tokens)
    for section, values in changes.items():
        if isinstance(settings.get(section), dict):
            settings[section].update(values)
        else:
            settings[section] = values
    (tmp_path / "templates").mkdir(exist_ok=True)
    config = tmp_path / "relay.toml"
    config.write_text(relay_toml(settings), encoding="utf-8")
    relay = RelayProcess(config)
    processes.append(relay)
    relay.start()
    await relay.wait_log("HTTP API on http://")
    return relay
