"""Frozen settings: one TOML file, then RELAY_<SECTION>_<KEY> environment overrides.

Loaded once at start-up. Anything wrong stops start-up with one line naming the key
(ConfigError), so an operator never runs on a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from relay.errors import ConfigError

DEFAULT_PATH = Path("config/relay.toml")
# The templates shipped with the relay (package data).
DEFAULT_TEMPLATES = Path(str(resources.files("relay") / "default_templates"))
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}$")


@dataclass(frozen=True)
class SMTPSettings:
    host: str = "127.0.0.1"
    port: int = 2525
    max_message_size: int = 26_214_400
    # A message that has already passed this many hops is looping (554 5.4.6).
    max_received_headers: int = 30
    # Deeper or larger MIME trees are refused (550 5.6.0) rather than walked.
    max_mime_depth: int = 20
    max_mime_parts: int = 500
    # A header section over this is refused (552 5.3.4) before the message is parsed.
    max_header_size: int = 262_144
    # More header fields than this in one header section (the message's, a part's or an
    # attached message's) is refused (552 5.3.4): real mail has tens; each field costs work
    # in every stage that reads the headers.
    max_header_count: int = 1000
    # Processes that run every message's stages (the most of its CPU time), so a relay
    # uses more than one core; 0: in the event loop's process, but for messages of 256 KiB
    # or more, which always go to a worker.
    workers: int = 0
    # Seconds an idle client may hold a connection, and a message's body may take to arrive
    # (from DATA to its end); the time a message waits for its processing does not count.
    timeout: float = 300.0
    # Seconds a connection may last in all, however busy; then 421 4.4.2 and closed (a
    # message being processed is answered first).
    max_session_time: float = 600.0
    # Commands in a row that move no message on (NOOP, RSET, HELP, VRFY, EXPN, HELO, EHLO);
    # one more: 421 4.7.0 and closed. MAIL, RCPT, DATA, AUTH and STARTTLS start the count again.
    max_idle_commands: int = 20
    # Bytes of message bodies being received or processed at once, over every connection
    # (bodies past 256 KiB wait on disk, in a spool directory beside the store); a DATA past
    # it: 452 4.3.1, try again later.
    max_bytes_in_flight: int = 1_073_741_824


@dataclass(frozen=True)
class StoreSettings:
    path: Path = Path("data/relay.db")
    # postgresql://user@host:port/db: the store is that PostgreSQL database (relay.store.pg);
    # empty: SQLite at `path`. The chain key and checkpoint log stay files (beside `path`).
    url: str = ""
    # PostgreSQL: the most connections one relay process holds (its worker processes hold
    # up to 2 each).
    pool_size: int = 10
    # How long a write waits for a lock held by another process before 451.
    busy_timeout: float = 5.0
    # PostgreSQL: how long one statement waits for the server's answer before it is given up
    # (a hung server, a connection cut off without a reset): then 451 for a message, and the
    # connection is closed. Far above any statement the relay makes (milliseconds; reads go
    # in pages), well below the 10 minutes a sending server waits for its reply.
    command_timeout: float = 30.0
    # A refused (or deferred) message is recorded with its header section, this many bytes
    # of its body, and the size and SHA-256 of the whole; 0: the header section only.
    refused_body_keep: int = 65_536
    # HMAC key of the chain over every append-only table; made on first start. Unset: beside
    # the store file (chain.key in its directory). Keep it (and a copy) off the database's
    # disk where you can: whoever holds it and the database can rewrite the record.
    chain_key: Path | None = None
    # Append-only log of signed checkpoints (chain length and head), so a store whose
    # newest records were cut off is caught. Unset: the store's path + ".checkpoints".
    checkpoint_log: Path | None = None
    # A checkpoint after this many new chain entries, or this many seconds after a change,
    # and at shutdown.
    checkpoint_every: int = 1000
    checkpoint_interval: float = 60.0

    @property
    def key_path(self) -> Path:
        return self.chain_key or self.path.parent / "chain.key"

    @property
    def log_path(self) -> Path:
        return self.checkpoint_log or self.path.with_name(self.path.name + ".checkpoints")


@dataclass(frozen=True)
class DeliverySettings:
    mode: str = "maildir"
    maildir: Path = Path("data/maildir")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_timeout: float = 60.0
    # STARTTLS to the smarthost: "auto" (when offered), "always", or "never".
    smtp_starttls: str = "auto"
    # Retry schedule for temporary failures: first, then doubled, capped.
    retry_initial: float = 30.0
    retry_max: float = 3600.0
    retry_factor: float = 2.0
    # After this long in the queue a message is bounced to its sender.
    queue_lifetime: float = 5 * 24 * 3600.0
    concurrency: int = 10
    # Envelope sender of delivered mail: bounces+<signed token>@domain (VERP), so a bounce
    # finds its message. The HMAC key is made when missing; tokens expire after this long.
    bounce_key: Path = Path("data/bounce.key")
    bounce_lifetime: float = 30 * 24 * 3600.0
    # Idle wake-up so scheduled retries run even when no new mail arrives.
    poll_interval: float = 5.0
    # PostgreSQL (store.url): a job a relay takes from the outbox is its own for this long;
    # then another relay on the database may take it (one that was killed never finishes).
    # Keep it above the longest attempt (smtp_timeout for each SMTP step).
    lease: float = 900.0


@dataclass(frozen=True)
class LimitsSettings:
    # Accepted messages per rolling hour (refused ones count per client network, below);
    # more: 450 4.7.1 rate.limit.
    sender_per_hour: int = 200
    conversation_per_hour: int = 20
    # Open SMTP connections from one client address; more: 421 4.7.0 and closed.
    connections_per_ip: int = 20
    # Open SMTP connections from one client network (IPv4 /24, IPv6 /64); more: 421 4.7.0.
    connections_per_network: int = 100
    # Open SMTP connections in all (both ports); more: 421 4.7.0 and closed.
    connections_total: int = 2000
    # Refused messages (not accepted: rejected or deferred) and their bytes per rolling hour
    # from one client network (IPv4 /24, IPv6 /64), or from one submission account; more:
    # 450 4.7.1 rate.network at RCPT, before any DATA. Only accepted messages count above.
    refused_per_network_per_hour: int = 100
    refused_bytes_per_network_per_hour: int = 100_000_000
    # Failed submission logins in 15 minutes for one account from one client network, and
    # from one network for any accounts; more: 454 4.7.0 without a password check. None is
    # counted per account alone: guesses from elsewhere must not lock its seller out.
    login_failures_per_account_network: int = 10
    login_failures_per_network: int = 30


@dataclass(frozen=True)
class DKIMSettings:
    # Every delivered message is signed for the relay's domain (relaxed/relaxed, RSA 2048).
    sign: bool = True
    selector: str = "relay"
    # PEM private key; made (and its DNS record logged) when missing.
    key: Path = Path("data/dkim/relay.pem")
    # A second signature, ed25519-sha256 (RFC 8463), under a selector of its own.
    ed25519: bool = False
    ed25519_selector: str = "relayed"
    ed25519_key: Path = Path("data/dkim/relay-ed25519.pem")


@dataclass(frozen=True)
class AuthSettings:
    # Mail from other servers: "dmarc" (an SPF or DKIM pass aligned with the From: domain),
    # "spf-or-dkim", or "none" (no check, no DNS: for trying the relay out).
    inbound: str = "none"
    # DNS servers for the checks, "IP" or "IP:port"; none: the system's (/etc/resolv.conf).
    resolvers: tuple[str, ...] = ()
    # Seconds a lookup may take; then the message gets 451, never a pass.
    dns_timeout: float = 5.0


@dataclass(frozen=True)
class SubmissionSettings:
    # The port for sellers' mail clients: AUTH PLAIN/LOGIN, only after STARTTLS.
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 2587
    # Implicit TLS (RFC 8314, usually 465); 0: off.
    tls_port: int = 0
    # PEM certificate chain and key; a self-signed pair is made when both are missing.
    tls_cert: Path = Path("data/tls/cert.pem")
    tls_key: Path = Path("data/tls/key.pem")


@dataclass(frozen=True)
class APISettings:
    # HTTP API, /metrics and health checks, on the SMTP server's event loop.
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8025
    # Bearer tokens by their SHA-256, each "SCOPE sha256:HEX" with SCOPE admin, metrics or
    # seller:ADDRESS (`relay api token` makes one). None: every request but health is 401.
    tokens: tuple[str, ...] = ()
    # Open API connections from one client address. Past it (or past 256 in all) a
    # connection may still ask /healthz or /readyz, at once; anything else is closed.
    connections_per_ip: int = 64
    # Seconds a connection may take to send a request's head (the request line and
    # headers), from its start or the end of its last response; then it is closed.
    header_timeout: float = 10.0


@dataclass(frozen=True)
class WebSettings:
    # The sellers' message center and the operators' pages (relay/web), on the API's port.
    enabled: bool = True
    # Seconds a sign-in lasts at most, and without a request; then the next page asks again.
    session_lifetime: float = 43_200.0
    session_idle: float = 3600.0
    # Mark the cookies Secure (sent over HTTPS only): set it when a TLS proxy serves the
    # pages. A request the proxy says came over https (X-Forwarded-Proto, believed from
    # 127.0.0.1 only) gets Secure cookies anyway.
    secure_cookies: bool = False
    # Messages on a page of the message center.
    page_size: int = 50


@dataclass(frozen=True)
class LogSettings:
    # "text" (readable) or "json" (one object per line, for a log pipeline).
    format: str = "text"


ATTACHMENT_TYPES = ("pdf", "png", "jpeg", "text", "office")
# The actions each rule may take; the first is the default.
ACTIONS = {
    "contact_email": ("redact", "reject", "off"),
    "contact_phone": ("redact", "reject", "off"),
    "contact_address": ("redact", "reject", "off"),
    "contact_social": ("redact", "reject", "off"),
    "link_external": ("redact", "reject", "off"),
    "image_tracker": ("strip", "reject", "off"),
    # Scripts, forms and frames never reach a reader: there is no "off".
    "html_active": ("strip", "reject"),
    "style_emoji": ("strip", "reject", "off"),
    "attachment": ("reject", "strip", "off"),
    "content_confirmation": ("reject", "off"),
    "content_thanks_only": ("reject", "off"),
    "content_promotion": ("reject", "off"),
    "content_review_request": ("reject", "off"),
}


@dataclass(frozen=True)
class RulesSettings:
    """The messaging rules (DESIGN section 5): an action per rule (defaults: ACTIONS), and
    the rules' lists."""

    contact_email: str = ACTIONS["contact_email"][0]
    contact_phone: str = ACTIONS["contact_phone"][0]
    contact_address: str = ACTIONS["contact_address"][0]
    contact_social: str = ACTIONS["contact_social"][0]
    link_external: str = ACTIONS["link_external"][0]
    image_tracker: str = ACTIONS["image_tracker"][0]
    html_active: str = ACTIONS["html_active"][0]
    style_emoji: str = ACTIONS["style_emoji"][0]
    attachment: str = ACTIONS["attachment"][0]
    content_confirmation: str = ACTIONS["content_confirmation"][0]
    content_thanks_only: str = ACTIONS["content_thanks_only"][0]
    content_promotion: str = ACTIONS["content_promotion"][0]
    content_review_request: str = ACTIONS["content_review_request"][0]
    # Regions whose numbering plans the phone rule knows (ISO 3166 codes).
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "JP", "CA", "AU")
    # https links to it (and its subdomains) survive, like links to the relay's domain.
    marketplace_domain: str = ""
    # The posts' and couriers' tracking sites of every region (relay/rules/carriers.py) are
    # allowed link hosts; allowed_link_hosts adds others (a list of 470 hosts in a config
    # file would hide the few an operator chose).
    carrier_link_hosts: bool = True
    allowed_link_hosts: tuple[str, ...] = ()
    # The learned second look (relay/rules/contact_model.py): a sentence that passes a
    # contact detail in a form no pattern knows is removed whole.
    contact_model: bool = True
    attachment_types: tuple[str, ...] = ATTACHMENT_TYPES
    attachment_max_total: int = 10_485_760
    attachment_max_count: int = 5
    # An Office file (a zip) unpacks to at most this many times its size, and to at most
    # this many bytes, by its declared sizes: more is a zip bomb (attachment.bomb).
    attachment_max_ratio: int = 100
    attachment_max_unpacked: int = 104_857_600
    # [Important] messages a seller may send an opted-out buyer per rolling window.
    critical_limit: int = 3
    critical_window_days: float = 30.0

    def action(self, code: str) -> str:
        """The action for a reason code: "contact.email" -> contact_email's setting;
        attachment.* codes share one."""
        key = code.replace(".", "_")
        if code.startswith("attachment."):
            key = "attachment"
        return str(getattr(self, key))


@dataclass(frozen=True)
class Config:
    domain: str = "relay.localhost"
    log_level: str = "INFO"
    # Grace period for open transactions and deliveries on SIGTERM.
    shutdown_grace: float = 30.0
    # Message templates for `relay send`, one TOML file each. Unset: the set shipped with the
    # relay (package data, so an installed relay has them wherever it runs).
    templates: Path | None = None
    # `relay serve` writes its process ID here, for `relay reload` (SIGHUP). Unset: relay.pid
    # beside the store.
    pidfile: Path | None = None
    smtp: SMTPSettings = field(default_factory=SMTPSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    api: APISettings = field(default_factory=APISettings)
    web: WebSettings = field(default_factory=WebSettings)
    dkim: DKIMSettings = field(default_factory=DKIMSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    submission: SubmissionSettings = field(default_factory=SubmissionSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    log: LogSettings = field(default_factory=LogSettings)

    @property
    def template_dir(self) -> Path:
        return self.templates or DEFAULT_TEMPLATES

    @property
    def pid_path(self) -> Path:
        return self.pidfile or self.store.path.with_name("relay.pid")

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


_SECTIONS: dict[str, type] = {
    "smtp": SMTPSettings,
    "store": StoreSettings,
    "delivery": DeliverySettings,
    "api": APISettings,
    "web": WebSettings,
    "dkim": DKIMSettings,
    "auth": AuthSettings,
    "submission": SubmissionSettings,
    "limits": LimitsSettings,
    "rules": RulesSettings,
    "log": LogSettings,
}
_STRINGS = tuple[str, ...]


def _to_bool(value: Any, from_env: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError


def _to_int(value: Any, from_env: bool) -> int:
    if isinstance(value, bool | float):
        raise ValueError
    return int(str(value).strip())


def _to_float(value: Any, from_env: bool) -> float:
    if isinstance(value, bool):
        raise ValueError
    return float(str(value).strip())


def _to_strings(value: Any, from_env: bool) -> tuple[str, ...]:
    if from_env:  # comma-separated; in TOML a list is an array
        value = [v for v in (v.strip() for v in value.split(",")) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError
    return tuple(v.strip() for v in value)


def _to_path(value: Any, from_env: bool) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError
    return Path(value)


def _to_str(value: Any, from_env: bool) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


# Each raises ValueError for a value that is not of its kind; any other kind is a string.
_CONVERTERS: dict[Any, Callable[[Any, bool], Any]] = {
    bool: _to_bool, int: _to_int, float: _to_float, _STRINGS: _to_strings, Path: _to_path,
}


def _convert(key: str, value: Any, kind: type, from_env: bool = False) -> Any:
    """Turn a TOML or environment value into `kind`, or raise ConfigError naming `key`."""
    if kind == (Path | None):  # optional paths: unset is a default of their own
        kind = Path
    try:
        return _CONVERTERS.get(kind, _to_str)(value, from_env)
    except ValueError:
        expected = "a list of strings" if kind == _STRINGS else kind.__name__
        raise ConfigError(f"{key}: expected {expected}, got {value!r}") from None


def _build(cls: type, prefix: str, table: Mapping[str, Any], env: Mapping[str, str],
           problems: list[str]) -> Any:
    """The settings of one section; a wrong value is a problem and its default stands in,
    so every problem of a file is found in one pass."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for name in table:
        if name not in hints or name in _SECTIONS:
            problems.append(f"{prefix}{name}: unknown setting")
    for f in dataclasses.fields(cls):
        if f.name in _SECTIONS and prefix == "":
            continue
        key = f"{prefix}{f.name}"
        env_name = "RELAY_" + key.replace(".", "_").upper()
        kind = hints[f.name]
        try:
            if env_name in env:
                key = f"{key} (from {env_name})"
                value = _convert(key, env[env_name], kind, from_env=True)
            elif f.name in table:
                value = _convert(key, table[f.name], kind)
            else:
                continue
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        allowed = ACTIONS.get(f.name) if cls is RulesSettings else None
        if allowed and value not in allowed:
            problems.append(f"{key}: one of {', '.join(allowed)}, got {value!r}")
            continue
        values[f.name] = value
    return cls(**values)


def _numbers(cfg: Config) -> list[tuple[str, float]]:
    found = []
    for prefix, obj in [("", cfg)] + [(f"{n}.", getattr(cfg, n)) for n in _SECTIONS]:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append((prefix + f.name, value))
    return found


def _validate(cfg: Config) -> list[str]:
    """Every problem of a config whose values have the right types."""
    from relay.api.tokens import token_problems

    return [*_validate_choices(cfg), *_validate_rules(cfg.rules), *_validate_auth(cfg),
            *token_problems(cfg.api.tokens, cfg.domain), *_validate_numbers(cfg)]


def _validate_choices(cfg: Config) -> list[str]:
    """The domain, and the settings that are one of a few words."""
    problems: list[str] = []
    add = problems.append
    if not _DOMAIN.match(cfg.domain):
        add(f"domain: not a lower-case DNS name: {cfg.domain!r}")
    if cfg.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        add(f"log_level: one of DEBUG, INFO, WARNING, ERROR, got {cfg.log_level!r}")
    if cfg.log.format not in ("text", "json"):
        add(f"log.format: must be 'text' or 'json', got {cfg.log.format!r}")
    if cfg.store.url and (problem := url_problem(cfg.store.url)):
        add(f"store.url: {problem}")
    if cfg.delivery.mode not in ("maildir", "smtp"):
        add(f"delivery.mode: must be 'maildir' or 'smtp', got {cfg.delivery.mode!r}")
    if cfg.delivery.smtp_starttls not in ("auto", "always", "never"):
        add(f"delivery.smtp_starttls: must be 'auto', 'always' or 'never', got"
            f" {cfg.delivery.smtp_starttls!r}")
    return problems


def url_problem(url: str) -> str | None:
    """What is wrong with a store URL (postgresql://user@host:port/db), None if nothing.
    Checked without connecting: an unreachable server is found at start-up."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as exc:
        return f"not a URL ({exc}): {redact_url(url)!r}"
    if parts.scheme not in ("postgresql", "postgres"):
        return ("must start with postgresql:// (unset: SQLite at store.path), got"
                f" {redact_url(url)!r}")
    if not parts.path.strip("/"):
        return f"names no database (postgresql://user@host:port/DATABASE): {redact_url(url)!r}"
    return None


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)


def _validate_auth(cfg: Config) -> list[str]:
    """Inbound sender authentication and the DKIM selectors."""
    problems: list[str] = []
    add = problems.append
    if cfg.auth.inbound not in ("dmarc", "spf-or-dkim", "none"):
        add(f"auth.inbound: one of dmarc, spf-or-dkim, none, got {cfg.auth.inbound!r}")
    for key in ("selector", "ed25519_selector"):
        if not re.fullmatch(_LABEL, getattr(cfg.dkim, key)):
            add(f"dkim.{key}: not a DNS label: {getattr(cfg.dkim, key)!r}")
    if cfg.dkim.ed25519 and cfg.dkim.ed25519_selector == cfg.dkim.selector:
        add("dkim.ed25519_selector: must differ from dkim.selector (one key each)")
    return problems


def _number_problem(key: str, value: float) -> str | None:
    """Every number is a port, the retry factor, or a size/count/duration that must be > 0."""
    if key == "store.refused_body_keep":
        return f"{key}: 0 or more bytes, got {value}" if value < 0 else None
    if key == "smtp.workers":
        return None if 0 <= value <= 64 else f"{key}: 0 to 64, got {value}"
    if key.endswith("port"):
        return None if 0 <= value <= 65535 else f"{key}: not a TCP port: {value}"
    if key == "delivery.retry_factor":
        return (None if value >= 1 and math.isfinite(value)
                else f"{key}: must be at least 1, got {value}")
    if value > 0 and math.isfinite(value):  # NaN compares false both ways
        return None
    return f"{key}: must be a finite number greater than 0, got {value!r}"


def _validate_numbers(cfg: Config) -> list[str]:
    problems = [p for key, value in _numbers(cfg) if (p := _number_problem(key, value))]
    if cfg.smtp.max_bytes_in_flight < cfg.smtp.max_message_size:
        problems.append(
            f"smtp.max_bytes_in_flight: at least smtp.max_message_size"
            f" ({cfg.smtp.max_message_size}), or a message of that size could never be taken,"
            f" got {cfg.smtp.max_bytes_in_flight}")
    return problems


def _validate_rules(rules: RulesSettings) -> list[str]:
    import phonenumbers  # only here: the rest of the config does not need it loaded

    problems = []
    for region in rules.phone_regions:
        if region not in phonenumbers.SUPPORTED_REGIONS:
            problems.append(f"rules.phone_regions: not a region code: {region!r}")
    for host in rules.allowed_link_hosts:
        if not _DOMAIN.match(host):
            problems.append(f"rules.allowed_link_hosts: not a lower-case DNS name: {host!r}")
    if rules.marketplace_domain and not _DOMAIN.match(rules.marketplace_domain):
        problems.append("rules.marketplace_domain: not a lower-case DNS name:"
                        f" {rules.marketplace_domain!r}")
    for kind in rules.attachment_types:
        if kind not in ATTACHMENT_TYPES:
            problems.append(
                f"rules.attachment_types: one of {', '.join(ATTACHMENT_TYPES)}, got {kind!r}")
    return problems


def _env_names() -> set[str]:
    names = {"RELAY_CONFIG"}
    for f in dataclasses.fields(Config):
        if f.name in _SECTIONS:
            section = dataclasses.fields(_SECTIONS[f.name])
            names |= {f"RELAY_{f.name}_{g.name}".upper() for g in section}
        else:
            names.add(f"RELAY_{f.name}".upper())
    return names


def _unknown_env_names(env: Mapping[str, str]) -> list[str]:
    """A misspelt override must not be silently ignored."""
    known = _env_names()
    return [f"{k}: unknown setting (environment variable)"
            for k in sorted(k for k in env if k.startswith("RELAY_") and k not in known)]


def config_path(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """The file named (it must exist), else config/relay.toml where there is one; None: no
    file, the built-in defaults and RELAY_* variables (an installed relay runs anywhere)."""
    named = explicit or env.get("RELAY_CONFIG")
    if named:
        return Path(named)
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


def load(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (missing file = defaults only), apply env overrides, validate.
    Raises ConfigError listing every problem found (its .problems, one line each)."""
    env = os.environ if env is None else env
    table: dict[str, Any] = {}
    if path is not None:
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    problems: list[str] = []
    sections = {}
    for name, cls in _SECTIONS.items():
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            problems.append(f"{name}: must be a table ([{name}])")
            sub = {}
        sections[name] = _build(cls, f"{name}.", sub, env, problems)
    problems += _unknown_env_names(env)
    top = {k: v for k, v in table.items() if k not in _SECTIONS}
    cfg = _build(Config, "", top, env, problems).replace(**sections)
    cfg = cfg.replace(domain=cfg.domain.strip().lower().rstrip("."))
    problems += _validate(cfg)
    if problems:
        raise ConfigError(*problems, config=cfg)
    return cfg
