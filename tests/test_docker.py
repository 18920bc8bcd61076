"""The Docker packaging: Dockerfile, compose.yaml, .dockerignore and the image's config.

The checks that need no Docker run everywhere: every RELAY_* variable the packaging names is a
real setting, the image's config with the image's environment keeps all state in /data and
listens where the image EXPOSEs, the HEALTHCHECK command works against a real HTTP server, and
compose's inbox sink (aiosmtpd's Mailbox handler, the exact command line from compose.yaml)
stores a message in its maildir. The image itself is built and tried only where a Docker engine
answers; otherwise that test skips, saying why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import http.server
import json
import re
import shlex
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
from support.ports import free_port

from relay.config import _env_names, load

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"
IMAGE_CONFIG = ROOT / "config" / "relay.docker.toml"
PORTS = {2525, 2587, 8025}  # SMTP, submission, HTTP API
ENV_NAME = re.compile(r"\bRELAY_[A-Z0-9_]+\b")
ORDER = "112-1234567-1234567"
BUYER = "bob@example.com"
SELLER = "sally@example.org"


# -- reading the files ----------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    return out


def final_stage() -> list[tuple[str, str]]:
    found = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    last_from = max(i for i, (word, _) in enumerate(found) if word == "FROM")
    return found[last_from:]


def stage_values(word: str) -> list[str]:
    return [args for w, args in final_stage() if w == word]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage_values("ENV"):
        for token in shlex.split(args):
            name, sep, value = token.partition("=")
            assert sep, f"ENV {args!r}: use NAME=value"
            env[name] = value
    return env


def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


def service_block(name: str) -> list[str]:
    """The lines of one service in compose.yaml (services indented by two spaces)."""
    lines = compose_text().splitlines()
    start = lines.index(f"  {name}:")
    block = []
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith("    ") and not line.lstrip().startswith("#"):
            break
        block.append(line)
    return block


def block_value(block: list[str], key: str) -> str:
    for line in block:
        stripped = line.strip()
        if stripped.startswith(f"{key}:"):
            return stripped.partition(":")[2].strip()
    raise AssertionError(f"no {key}: in {block}")


def compose_env(service: str) -> dict[str, str]:
    env = {}
    for line in service_block(service):
        match = re.fullmatch(r"\s+(RELAY_[A-Z0-9_]+):\s*(.*?)\s*", line)
        if match:
            env[match.group(1)] = match.group(2).strip('"')
    return env


def inbox_command() -> list[str]:
    # A flow sequence of double-quoted strings: YAML that is JSON too (PyYAML is not here).
    return json.loads(block_value(service_block("inbox"), "entrypoint"))


def inbox_port() -> int:
    command = inbox_command()
    return int(command[command.index("-l") + 1].rpartition(":")[2])


def healthcheck_command() -> list[str]:
    (args,) = stage_values("HEALTHCHECK")
    exec_form = args[args.index("CMD ") + 4:].strip()
    return json.loads(exec_form)


def settings(cfg, prefix=""):
    """Every setting of a Config, by dotted key."""
    out = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out.update(settings(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.communicate()[1]!r}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {seconds} s")


def buyer_message(to: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = f"Bob <{BUYER}>"
    m["To"] = to
    m["Subject"] = "Where is my parcel?"
    m["Message-ID"] = make_msgid(domain="example.com")
    m.set_content("Hi, any news on my order?\n")
    return m


# -- consistency with the code (no Docker needed) -------------------------------------------


@pytest.mark.parametrize("path", [DOCKERFILE, COMPOSE, IMAGE_CONFIG], ids=lambda p: p.name)
def test_every_relay_variable_is_a_real_setting(path):
    named = set(ENV_NAME.findall(path.read_text(encoding="utf-8")))
    assert named, f"{path.name} names no RELAY_* variable"
    unknown = sorted(named - _env_names())
    assert not unknown, f"{path.name}: not config overrides (relay/config.py): {unknown}"


def test_the_base_image_is_a_python_with_the_header_injection_fix():
    # CVE-2024-6923 (the generator wrote a decoded CRLF in a header raw) is fixed from
    # 3.11.10 and 3.12.5; both stages on one release, so the copied venv matches.
    bases = [args.split()[0] for word, args in instructions(DOCKERFILE.read_text("utf-8"))
             if word == "FROM"]
    assert len(set(bases)) == 1, bases
    found = re.fullmatch(r"python:3\.(\d+)\.(\d+)-slim", bases[0])
    assert found, f"{bases[0]}: pin a patch release"
    minor, patch = int(found[1]), int(found[2])
    assert (minor, patch) >= (11, 10) and (minor != 12 or patch >= 5), bases[0]
    assert any("verify_generated_headers" in args for word, args in final_stage()
               if word == "RUN")


def test_dockerfile_runs_as_non_root_with_health_volume_and_ports():
    (base,) = stage_values("FROM")
    assert base.split()[0] == "python:3.11.13-slim"
    users = stage_values("USER")
    assert users, "the image must switch to a non-root USER"
    assert users[-1].split(":")[0] not in ("root", "0")

    (health,) = stage_values("HEALTHCHECK")
    assert "NONE" not in health.split()
    command = healthcheck_command()
    assert command[0] == "python"
    assert "urllib.request" in command[-1]
    assert "http://127.0.0.1:" in command[-1]
    assert "/healthz" in command[-1]
    assert "8025" in command[-1]

    volumes = [v for args in stage_values("VOLUME") for v in json.loads(args)]
    assert volumes == ["/data"]
    exposed = {int(p.split("/")[0]) for args in stage_values("EXPOSE") for p in args.split()}
    assert exposed == PORTS

    assert stage_values("ENTRYPOINT") == ['["relay"]']
    assert stage_values("CMD") == ['["serve"]']
    env = image_env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    # /data belongs to the non-root user (a new named volume takes the directory's owner).
    runs = " ".join(stage_values("RUN"))
    assert re.search(r"chown (-R )?relay:relay /data\b", runs), runs


def test_dockerfile_installs_runtime_dependencies_only_and_ships_migrations():
    found = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    runs = " ".join(args for word, args in found if word == "RUN")
    # Dependencies from the lock with their hashes, in a layer before the code; then the
    # project alone.
    assert "pip install --require-hashes -r requirements.lock" in runs
    assert "pip install --no-deps ." in runs
    assert "[dev]" not in runs
    copies = [args for word, args in found if word == "COPY"]
    assert copies.index("requirements.lock ./") < copies.index("relay ./relay")
    # The build proves the installed package carries its migrations (package data).
    assert "MIGRATIONS_DIR" in runs
    assert "migrate" in runs


def test_image_config_keeps_all_state_in_data_and_listens_on_exposed_ports():
    env = image_env()
    assert env["RELAY_CONFIG"] == "/etc/relay/relay.toml"
    cfg = load(IMAGE_CONFIG, env)
    values = settings(cfg)
    for key in ("smtp.host", "submission.host", "api.host"):
        assert values[key] == "0.0.0.0", key
    assert {values["smtp.port"], values["submission.port"], values["api.port"]} == PORTS
    assert values["submission.enabled"] is True
    assert values["auth.inbound"] == "none"  # runs without DNS until an operator says so
    assert values["templates"] is None  # the templates shipped in the package
    # Every file the relay writes lives in the /data volume (a new path setting needs an ENV).
    paths = {k: v for k, v in values.items() if isinstance(v, Path) and k != "templates"}
    assert paths
    outside = {k: str(v) for k, v in paths.items() if not PurePosixPath(v).is_relative_to("/data")}
    assert not outside, f"state outside /data; add a RELAY_* ENV to the Dockerfile: {outside}"


def test_dockerfile_copies_exist_and_are_in_the_build_context():
    ignored = [
        line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".venv", ".git", "data", "**/__pycache__", ".pytest_cache", ".ruff_cache"):
        assert needed in ignored, f".dockerignore should exclude {needed}"
    copies = [
        args for word, args in instructions(DOCKERFILE.read_text(encoding="utf-8"))
        if word == "COPY" and not args.startswith("--from")
    ]
    assert copies
    for args in copies:
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            parts = Path(source).parts
            for pattern in ignored:
                pattern = pattern.removeprefix("**/")
                hit = any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern)
                          for i in range(len(parts)))
                assert not hit, f"COPY {source}: excluded by .dockerignore ({pattern})"


def test_compose_publishes_on_loopback_and_delivers_to_the_inbox():
    text = compose_text()
    relay = service_block("relay")
    inbox = service_block("inbox")
    mappings = [
        line.strip().lstrip("-").strip().strip('"')
        for line in relay + inbox if re.match(r'\s+- "?[\d.]*:?\d+:\d+', line)
    ]
    assert {int(m.rpartition(":")[2]) for m in mappings} == PORTS
    for mapping in mappings:
        assert mapping.startswith("127.0.0.1:"), f"{mapping}: publish on 127.0.0.1 only"
    assert "- relay-data:/data" in [line.strip() for line in relay]
    assert re.search(r"^volumes:\n(\s+.*\n)*\s+relay-data:", text, re.M)

    env = compose_env("relay")
    assert env["RELAY_DELIVERY_MODE"] == "smtp"
    assert env["RELAY_DELIVERY_SMTP_HOST"] == "inbox"
    assert env["RELAY_DELIVERY_SMTP_STARTTLS"] == "never"
    assert int(env["RELAY_DELIVERY_SMTP_PORT"]) == inbox_port()
    assert "condition: service_healthy" in [line.strip() for line in relay]
    # The relay's config with the image's and compose's environment is valid.
    cfg = load(IMAGE_CONFIG, {**image_env(), **env})
    assert (cfg.delivery.mode, cfg.delivery.smtp_host) == ("smtp", "inbox")

    # Same image; its own healthcheck (the inbox has no /healthz).
    assert block_value(inbox, "image") == block_value(relay, "image")
    assert any(line.strip() == "healthcheck:" for line in inbox)
    command = inbox_command()
    assert command[:3] == ["python", "-m", "aiosmtpd"]
    assert "aiosmtpd.handlers.Mailbox" in command
    assert command[-1] == "/inbox/maildir"
    assert block_value(inbox, "stop_signal") == "SIGINT"  # aiosmtpd's CLI stops on SIGINT


def _run_healthcheck(port: int) -> int:
    command = [sys.executable if a == "python" else a for a in healthcheck_command()]
    env = {"RELAY_API_PORT": str(port), "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, env=env, capture_output=True, timeout=30, check=False).returncode


def test_healthcheck_command_passes_only_on_a_healthy_api():
    status = {"code": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            code = status["code"] if self.path == "/healthz" else 404
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert _run_healthcheck(port) == 0
        status["code"] = 503
        assert _run_healthcheck(port) == 1
    finally:
        server.shutdown()
        server.server_close()
    assert _run_healthcheck(port) == 1  # nothing listening


def test_compose_runs_both_services_hardened_and_the_relay_checked_for_readiness():
    import yaml

    services = yaml.safe_load(compose_text())["services"]
    for name, service in services.items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["logging"]["options"]["max-size"], name  # logs rotate
    assert "build" in services["relay"] and "build" not in services["inbox"]  # built once
    assert services["inbox"]["image"] == services["relay"]["image"]
    assert "/readyz" in " ".join(services["relay"]["healthcheck"]["test"])



def test_compose_runs_two_relays_on_the_postgres_service():
    """The example deployment: two relays on one PostgreSQL database (issue 17), each with
    its own published ports, both waiting for the database to be healthy."""
    import yaml

    # As compose reads it with nothing set: ${NAME:-default} is the default.
    text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", compose_text())
    assert "$" not in text
    compose = yaml.safe_load(text)
    services = compose["services"]
    relays = [name for name, s in services.items() if s.get("image") == "relay:local"
              and name != "inbox"]
    assert sorted(relays) == ["relay", "relay-2"]
    db = services["postgres"]
    env = {**db["environment"]}
    published = set()
    for name in relays:
        service = services[name]
        url = urlsplit(service["environment"]["RELAY_STORE_URL"])
        assert url.scheme == "postgresql" and url.hostname == "postgres", name
        assert url.path == f"/{env['POSTGRES_DB']}" and url.username == env["POSTGRES_USER"]
        # The same password on both sides (one interpolation, with a default).
        assert url.password == env["POSTGRES_PASSWORD"], name
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert service["depends_on"]["inbox"]["condition"] == "service_healthy", name
        ports = service["ports"]
        assert {int(p.rpartition(":")[2]) for p in ports} == PORTS, name
        for mapping in ports:
            assert mapping.startswith("127.0.0.1:"), f"{name} {mapping}: 127.0.0.1 only"
            host = mapping.split(":")[1]
            assert host not in published, f"{name}: host port {host} published twice"
            published.add(host)
        # The keys (chain, bounce, DKIM) must be the same on both: one volume.
        assert "relay-data:/data" in service["volumes"], name
        assert "/readyz" in " ".join(service["healthcheck"]["test"]), name
        # Its environment makes a valid config, on PostgreSQL (what start-up checks first).
        cfg = load(IMAGE_CONFIG, {**image_env(), **service["environment"]})
        assert urlsplit(cfg.store.url).hostname == "postgres"
        assert cfg.store.pool_size >= 1
    # relay-2 starts once relay has made the keys; each its own pid file for `relay reload`.
    assert services["relay-2"]["depends_on"]["relay"]["condition"] == "service_healthy"
    pids = {load(IMAGE_CONFIG, {**image_env(), **services[n]["environment"]}).pid_path
            for n in relays}
    assert len(pids) == 2, pids

    # The database: not published, data in a named volume, a healthcheck the relays wait on.
    assert "ports" not in db
    assert "pg-data:/var/lib/postgresql/data" in db["volumes"]
    assert "pg-data" in compose["volumes"]
    check = db["healthcheck"]["test"]
    assert check[:2] == ["CMD", "pg_isready"]
    assert check[check.index("-d") + 1] == env["POSTGRES_DB"]
    assert re.fullmatch(r"postgres:\d+\.\d+\S*", db["image"]), "pin a PostgreSQL release"
    # Read-only with every capability dropped, as the postgres user (its entrypoint then
    # needs none), its socket directory writable.
    assert db["user"] == "postgres"
    assert "/var/run/postgresql" in db["tmpfs"]


def test_the_locks_pin_every_dependency_with_hashes():
    for name in ("requirements.lock", "requirements-dev.lock"):
        entries = re.split(r"\n(?=[a-z0-9])", (ROOT / name).read_text(encoding="utf-8"))
        pins = [e for e in entries if "==" in e.split("\n")[0]]
        assert pins, name
        for entry in pins:
            assert "--hash=sha256:" in entry, entry.split("\n")[0]
    runtime = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "pytest==" not in runtime  # the image gets no test tools


def test_compose_inbox_command_stores_every_message_in_its_maildir(tmp_path):
    """compose.yaml's inbox entrypoint, run here on a loopback port: a message sent to it
    lands as a file in the maildir, and SIGINT (its stop_signal) stops it."""
    port = free_port()
    (tmp_path / "inbox").mkdir()  # the image makes /inbox; Maildir makes only the last level
    maildir = tmp_path / "inbox" / "maildir"
    command = [sys.executable if a == "python" else a for a in inbox_command()]
    command[command.index("-l") + 1] = f"127.0.0.1:{port}"
    command[-1] = str(maildir)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        check = json.loads(block_value(service_block("inbox"), "test"))
        assert check[0] == "CMD"
        probe = [sys.executable, *check[2:-1], check[-1].replace(str(inbox_port()), str(port))]
        assert subprocess.run(probe, timeout=30, check=False).returncode == 0

        message = buyer_message("sally@example.org")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("smtputf8")  # -u: the relay uses SMTPUTF8 when it must
            client.send_message(message, from_addr="bounces+x@relay.localhost",
                                to_addrs=["sally@example.org"])
        files = list((maildir / "new").iterdir())
        assert len(files) == 1
        stored = files[0].read_bytes()
        assert b"Subject: Where is my parcel?" in stored
        assert b"X-RcptTo: sally@example.org" in stored
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("the inbox sink did not stop on SIGINT") from None


# -- the image, where a Docker engine answers ------------------------------------------------


@functools.cache
def docker_problem() -> str | None:
    """Why the image test cannot run here, or None."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return "no usable Docker engine: `docker info` did not answer in 15 s"
    if info.returncode != 0 or not info.stdout.strip():
        reason = (info.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no usable Docker engine: `docker info` failed: {reason}"
    return None


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="module")
def image():
    problem = docker_problem()
    if problem:
        pytest.skip(problem)
    tag = "relay-test"
    subprocess.run(["docker", "build", "-t", tag, "."], cwd=ROOT, check=True, timeout=1800)
    return tag


def published(container: str, port: int) -> int:
    line = docker("port", container, f"{port}/tcp").splitlines()[0]
    return int(line.rpartition(":")[2])


def wait_until(what: str, probe, container: str, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, AssertionError, ValueError):
            result = probe()
            if result:
                return result
        time.sleep(1)
    logs = docker("logs", "--tail", "50", container, check=False)
    raise AssertionError(f"{what} within {seconds} s; container log:\n{logs}")


def test_image_serves_and_delivers_into_the_data_volume(image):
    name = f"relay-test-{uuid.uuid4().hex[:12]}"
    docker("run", "-d", "--name", name, "--health-interval", "2s",
           "-p", "127.0.0.1::2525", "-p", "127.0.0.1::8025", image)
    try:
        assert docker("exec", name, "id", "-u").strip() not in ("", "0")
        api = published(name, 8025)

        def healthz():
            with urllib.request.urlopen(f"http://127.0.0.1:{api}/healthz", timeout=3) as r:
                return r.status == 200

        wait_until("no 200 from /healthz", healthz, name)
        wait_until("the HEALTHCHECK did not report healthy", lambda: docker(
            "inspect", "--format", "{{.State.Health.Status}}", name).strip() == "healthy", name)

        conv = json.loads(docker("exec", name, "relay", "conversations", "open",
                                 "--order", ORDER, "--buyer", BUYER, "--seller", SELLER, "--json"))
        alias = conv["seller_alias"]
        smtp = published(name, 2525)

        def greets():  # Docker's proxy accepts connections before the relay listens
            with smtplib.SMTP("127.0.0.1", smtp, timeout=5) as client:
                return client.noop()[0] == 250

        wait_until("no SMTP greeting", greets, name)
        with smtplib.SMTP("127.0.0.1", smtp, timeout=30) as client:
            refused = client.send_message(buyer_message(alias), from_addr=BUYER, to_addrs=[alias])
        assert refused == {}

        def delivered():
            found = docker("exec", name, "find", "/data/maildir", "-type", "f").split()
            return [f for f in found if f.startswith(f"/data/maildir/{SELLER}/new/")]

        (path,) = wait_until("nothing delivered into /data/maildir", delivered, name)
        body = docker("exec", name, "cat", path)
        assert "Where is my parcel?" in body
        assert conv["buyer_alias"] in body
        assert BUYER not in body
    finally:
        docker("rm", "-f", "-v", name, check=False)
