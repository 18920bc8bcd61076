"""Config: one TOML file, RELAY_<SECTION>_<KEY> overrides, one clear line for a bad value."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from relay.config import (
    APISettings,
    AuthSettings,
    Config,
    DeliverySettings,
    LogSettings,
    SMTPSettings,
    StoreSettings,
    SubmissionSettings,
    WebSettings,
    load,
)
from relay.errors import ConfigError

SECTIONS = {"smtp": SMTPSettings, "store": StoreSettings, "delivery": DeliverySettings,
            "api": APISettings, "web": WebSettings, "auth": AuthSettings,
            "submission": SubmissionSettings, "log": LogSettings}


def toml_str(value: object) -> str:
    # A JSON string is a valid TOML basic string.
    return json.dumps(str(value))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load(path, env)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# -- relay.config.load ----------------------------------------------------------------------


def test_defaults_without_file_or_env():
    cfg = load(None, {})
    assert cfg == Config()
    assert cfg.domain == "relay.localhost"
    assert cfg.smtp.port == 2525
    assert cfg.store.path == Path("data/relay.db")
    assert cfg.delivery.mode == "maildir"
    assert cfg.delivery.retry_initial == 30.0


def test_empty_file_gives_defaults(tmp_path):
    assert load(write(tmp_path / "empty.toml", ""), {}) == Config()


def test_toml_values_are_read_and_typed(tmp_path):
    path = write(tmp_path / "relay.toml", f"""
domain = "mail.shop.example"
log_level = "DEBUG"
shutdown_grace = 2

[smtp]
host = "0.0.0.0"
port = 2600
max_message_size = 1000

[store]
path = {toml_str(tmp_path / "x.db")}

[delivery]
mode = "smtp"
smtp_port = 2601
retry_initial = 0.5
""")
    cfg = load(path, {})
    assert cfg.domain == "mail.shop.example"
    assert cfg.log_level == "DEBUG"
    assert cfg.shutdown_grace == 2.0 and isinstance(cfg.shutdown_grace, float)
    assert cfg.smtp.host == "0.0.0.0"
    assert cfg.smtp.port == 2600
    assert cfg.smtp.max_message_size == 1000
    assert cfg.store.path == tmp_path / "x.db"
    assert isinstance(cfg.store.path, Path)
    assert cfg.delivery.mode == "smtp"
    assert cfg.delivery.smtp_port == 2601
    assert cfg.delivery.retry_initial == 0.5
    # Keys the file does not name keep their defaults.
    assert cfg.smtp.timeout == SMTPSettings().timeout
    assert cfg.delivery.maildir == DeliverySettings().maildir
    assert cfg.api == APISettings()


def test_env_overrides_beat_toml(tmp_path):
    path = write(tmp_path / "relay.toml", """
domain = "from-file.example"
[smtp]
port = 2600
[store]
path = "file.db"
[delivery]
mode = "maildir"
retry_initial = 9.0
""")
    env = {
        "RELAY_DOMAIN": "from-env.example",
        "RELAY_SMTP_PORT": "2700",
        "RELAY_STORE_PATH": str(tmp_path / "env.db"),
        "RELAY_DELIVERY_MODE": "smtp",
        "RELAY_DELIVERY_RETRY_INITIAL": "0.25",
        "RELAY_API_PORT": "8100",  # a key the file does not have at all
    }
    cfg = load(path, env)
    assert cfg.domain == "from-env.example"
    assert cfg.smtp.port == 2700
    assert cfg.store.path == tmp_path / "env.db"
    assert cfg.delivery.mode == "smtp"
    assert cfg.delivery.retry_initial == 0.25
    assert cfg.api.port == 8100
    # Without the environment the file's values are back.
    plain = load(path, {})
    assert (plain.domain, plain.smtp.port, plain.delivery.mode) == (
        "from-file.example", 2600, "maildir")


def test_every_key_has_its_env_override():
    cfg = load(None, {"RELAY_LOG_LEVEL": "WARNING", "RELAY_SHUTDOWN_GRACE": "3",
                      "RELAY_SMTP_MAX_RECEIVED_HEADERS": "7",
                      "RELAY_STORE_BUSY_TIMEOUT": "1.5",
                      "RELAY_DELIVERY_SMTP_STARTTLS": "never",
                      "RELAY_DELIVERY_CONCURRENCY": "3",
                      "RELAY_API_HOST": "::1"})
    assert cfg.log_level == "WARNING"
    assert cfg.shutdown_grace == 3.0
    assert cfg.smtp.max_received_headers == 7
    assert cfg.store.busy_timeout == 1.5
    assert cfg.delivery.smtp_starttls == "never"
    assert cfg.delivery.concurrency == 3
    assert cfg.api.host == "::1"


def test_domain_is_normalized():
    assert load(None, {"RELAY_DOMAIN": "Relay.Test."}).domain == "relay.test"


def test_bad_int_from_env_names_the_key():
    message = config_error(None, {"RELAY_SMTP_PORT": "abc"})
    assert "smtp.port" in message
    assert "RELAY_SMTP_PORT" in message
    assert "'abc'" in message


@pytest.mark.parametrize(("toml", "key"), [
    ("[smtp]\nport = 25.5\n", "smtp.port"),
    ("[smtp]\nport = true\n", "smtp.port"),
    ("domain = 5\n", "domain"),
    ("[store]\npath = 3\n", "store.path"),
    ("[delivery]\nretry_initial = \"soon\"\n", "delivery.retry_initial"),
])
def test_bad_type_in_toml_names_the_key(tmp_path, toml, key):
    path = write(tmp_path / "relay.toml", toml)
    assert config_error(path, {}).startswith(key)


def test_out_of_range_values_name_the_key():
    assert config_error(None, {"RELAY_SMTP_PORT": "70000"}).startswith("smtp.port")
    assert config_error(None, {"RELAY_DELIVERY_RETRY_INITIAL": "0"}).startswith(
        "delivery.retry_initial")
    assert config_error(None, {"RELAY_DELIVERY_RETRY_FACTOR": "0.5"}).startswith(
        "delivery.retry_factor")
    assert config_error(None, {"RELAY_LOG_LEVEL": "chatty"}).startswith("log_level")
    assert config_error(None, {"RELAY_DOMAIN": "not a domain"}).startswith("domain")
    assert config_error(None, {"RELAY_STORE_PATH": "  "}).startswith("store.path")
    assert config_error(None, {"RELAY_STORE_REFUSED_BODY_KEEP": "-1"}) == (
        "store.refused_body_keep: 0 or more bytes, got -1")
    assert load(None, {"RELAY_STORE_REFUSED_BODY_KEEP": "0"}).store.refused_body_keep == 0
    assert config_error(None, {"RELAY_STORE_CHECKPOINT_EVERY": "0"}).startswith(
        "store.checkpoint_every")


def test_chain_key_and_checkpoint_log_are_beside_the_store_unless_set():
    cfg = load(None, {"RELAY_STORE_PATH": "/srv/relay/relay.db"})
    assert cfg.store.key_path == Path("/srv/relay/chain.key")
    assert cfg.store.log_path == Path("/srv/relay/relay.db.checkpoints")
    cfg = load(None, {"RELAY_STORE_CHAIN_KEY": "/etc/relay/chain.key",
                      "RELAY_STORE_CHECKPOINT_LOG": "/var/log/relay/checkpoints"})
    assert cfg.store.key_path == Path("/etc/relay/chain.key")
    assert cfg.store.log_path == Path("/var/log/relay/checkpoints")


def test_zip_bomb_limits_are_settings():
    assert (Config().rules.attachment_max_ratio,
            Config().rules.attachment_max_unpacked) == (100, 104_857_600)
    cfg = load(None, {"RELAY_RULES_ATTACHMENT_MAX_RATIO": "250",
                      "RELAY_RULES_ATTACHMENT_MAX_UNPACKED": "5000000"})
    assert (cfg.rules.attachment_max_ratio, cfg.rules.attachment_max_unpacked) == (250, 5_000_000)
    for key in ("ATTACHMENT_MAX_RATIO", "ATTACHMENT_MAX_UNPACKED"):
        message = config_error(None, {f"RELAY_RULES_{key}": "0"})
        assert message.startswith(f"rules.{key.lower()}: must be a finite number greater than 0")


def test_a_budget_of_bytes_in_flight_below_the_message_size_is_refused():
    message = config_error(None, {"RELAY_SMTP_MAX_BYTES_IN_FLIGHT": "1000000"})
    assert message.startswith("smtp.max_bytes_in_flight: at least smtp.max_message_size"), \
        message
    assert config_error(None, {"RELAY_SMTP_MAX_IDLE_COMMANDS": "0"}).startswith(
        "smtp.max_idle_commands")


def test_nan_float_is_refused():
    message = config_error(None, {"RELAY_DELIVERY_RETRY_INITIAL": "nan"})
    assert message.startswith("delivery.retry_initial")


def test_misspelt_env_override_is_named():
    assert config_error(None, {"RELAY_SMTP_PROT": "2526"}).startswith("RELAY_SMTP_PROT: unknown")
    assert load(None, {"RELAY_CONFIG": "x.toml", "PATH": "/bin"}) == Config()


def test_unknown_key_in_section_is_named(tmp_path):
    path = write(tmp_path / "relay.toml", "[smtp]\nprot = 2525\n")
    message = config_error(path, {})
    assert "smtp.prot" in message
    assert "unknown" in message


def test_unknown_top_level_key_and_section_are_named(tmp_path):
    assert "colour" in config_error(write(tmp_path / "a.toml", 'colour = "blue"\n'), {})
    assert "queue" in config_error(write(tmp_path / "b.toml", "[queue]\nsize = 1\n"), {})


def test_section_that_is_not_a_table(tmp_path):
    message = config_error(write(tmp_path / "relay.toml", "smtp = 25\n"), {})
    assert message.startswith("smtp")


def test_bad_delivery_mode(tmp_path):
    path = write(tmp_path / "relay.toml", '[delivery]\nmode = "pigeon"\n')
    message = config_error(path, {})
    assert message.startswith("delivery.mode")
    assert "pigeon" in message
    assert config_error(None, {"RELAY_DELIVERY_MODE": "SMTP"}).startswith("delivery.mode")


def test_invalid_toml_is_one_line(tmp_path):
    path = write(tmp_path / "relay.toml", "domain = \n[smtp\n")
    message = config_error(path, {})
    assert str(path) in message
    assert "TOML" in message


def test_non_utf8_file_is_a_config_error(tmp_path):
    path = tmp_path / "relay.toml"
    path.write_bytes(b'domain = "caf\xe9.example"\n')
    assert str(path) in config_error(path, {})


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    message = config_error(path, {})
    assert "not found" in message
    assert str(path) in message


def test_repo_config_files_load_cleanly():
    cfg = load(ROOT / "config" / "relay.toml", {})
    assert cfg.domain == "relay.localhost"
    assert cfg.delivery.mode == "maildir"
    # The example documents every setting with its default value.
    example = ROOT / "config" / "relay.example.toml"
    # ...except the production choices it names in its first lines.
    production = Config().replace(
        auth=AuthSettings(inbound="dmarc"),
        submission=SubmissionSettings(host="0.0.0.0", port=587))
    assert load(example, {}) == production
    table = tomllib.loads(example.read_text(encoding="utf-8"))
    top = {f.name for f in dataclasses.fields(Config)
           if f.default is not None} - set(SECTIONS)
    assert top <= set(table)
    for name, cls in SECTIONS.items():
        # A setting whose default is "unset" (derived from another) is there as a comment.
        set_by_default = {f.name for f in dataclasses.fields(cls) if f.default is not None}
        assert set(table[name]) == set_by_default, name


# -- through the CLI ------------------------------------------------------------------------


def cli_config(tmp_path: Path, db_name: str = "relay.db") -> Path:
    return write(tmp_path / "relay.toml", f"""
domain = "relay.test"
[store]
path = {toml_str(tmp_path / db_name)}
[delivery]
maildir = {toml_str(tmp_path / "maildir")}
""")


def test_cli_bad_env_value_is_one_stderr_line(tmp_path):
    cfg = cli_config(tmp_path)
    done = run_cli("--config", str(cfg), "migrate", env={"RELAY_SMTP_PORT": "abc"})
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "smtp.port" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "relay.db").exists()  # stopped before touching the store


def test_cli_bad_toml_value_is_one_stderr_line(tmp_path):
    cfg = write(tmp_path / "relay.toml", '[delivery]\nmode = "pigeon"\n')
    done = run_cli("--config", str(cfg), "migrate")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "delivery.mode" in lines[0]


def test_cli_missing_config_file(tmp_path):
    done = run_cli("--config", str(tmp_path / "nope.toml"), "migrate")
    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "nope.toml" in done.stderr


def test_cli_config_path_that_is_a_directory(tmp_path):
    done = run_cli("--config", str(tmp_path), "migrate")
    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_cli_env_override_picks_the_store(tmp_path):
    cfg = cli_config(tmp_path)
    other = tmp_path / "other.db"
    done = run_cli("--config", str(cfg), "migrate", env={"RELAY_STORE_PATH": str(other)})
    assert done.returncode == 0, done.stderr
    assert other.exists()
    assert not (tmp_path / "relay.db").exists()


def test_relay_config_env_chooses_the_file(tmp_path):
    cfg = cli_config(tmp_path, db_name="chosen.db")
    done = run_cli("migrate", env={"RELAY_CONFIG": str(cfg)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "applied: 0001_initial.sql" in done.stdout
    assert (tmp_path / "chosen.db").exists()


def test_explicit_config_beats_relay_config(tmp_path):
    chosen = cli_config(tmp_path, db_name="explicit.db")
    ignored = write(tmp_path / "ignored.toml", '[delivery]\nmode = "pigeon"\n')
    done = run_cli("--config", str(chosen), "migrate", env={"RELAY_CONFIG": str(ignored)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "explicit.db").exists()
