# The relay as a service: slim Python, non-root, all state in the /data volume.
#   docker build -t relay .
#   docker run -p 127.0.0.1:2525:2525 -p 127.0.0.1:2587:2587 -p 127.0.0.1:8025:8025 \
#       -v relay-data:/data relay
# compose.yaml runs it with a catch-all inbox; tests/test_docker.py builds and tries it.

# The base image is pinned to a patch release: 3.11.10 is the first 3.11 whose e-mail
# generator refuses to write a header value holding a line break (CVE-2024-6923, gh-121650:
# an encoded word that decodes to CRLF went out raw, a header injection). The relay writes
# every header it keeps itself (relay/message/header_line.py) and checks each on the way
# out (relay/stages/mime.py), so this is the second line, not the only one; the build
# below fails on a Python without the fix. Both stages must name the same release (the venv
# is copied across). Raise it with each 3.11 security release.
# -- build: the project and its runtime dependencies (no dev extras) in a venv --------------
FROM python:3.11.13-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, from the lock (exact versions, hashes checked): this layer is rebuilt
# only when the lock changes, not with every change to the code.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY relay ./relay
COPY config/relay.docker.toml ./config/relay.docker.toml
RUN /opt/venv/bin/pip install --no-deps .

# The migrations and default templates are package data (relay/migrations,
# relay/default_templates): prove the installed package has them by migrating a throwaway
# store with the image's config (run from /, so the source tree in /src is not what gets
# imported). This also fails the build when a module the relay imports is missing from
# pyproject.toml's dependencies.
WORKDIR /
RUN dir="$(/opt/venv/bin/python -c 'from relay.store.migrate import MIGRATIONS_DIR as d; print(d)')" \
 && case "$dir" in /opt/venv/*) ;; *) echo "unexpected MIGRATIONS_DIR: $dir" >&2; exit 1;; esac \
 && out="$(RELAY_STORE_PATH=/tmp/check.db \
           /opt/venv/bin/relay --config /src/config/relay.docker.toml migrate)" \
 && echo "$out" \
 && case "$out" in "applied: "*) ;; *) echo "no migrations applied" >&2; exit 1;; esac \
 && rm -f /tmp/check.db*

# -- runtime ---------------------------------------------------------------------------------
FROM python:3.11.13-slim

# The stdlib's own check of generated headers (see the top): absent before 3.11.10.
RUN python -c "from email import policy; assert policy.SMTP.verify_generated_headers"

# Every RELAY_* here is a real setting override (relay/config.py; unknown ones are a config
# error). They win over the config file, so the paths stay in /data whatever file is mounted.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    RELAY_CONFIG=/etc/relay/relay.toml \
    RELAY_SMTP_HOST=0.0.0.0 \
    RELAY_SUBMISSION_HOST=0.0.0.0 \
    RELAY_API_HOST=0.0.0.0 \
    RELAY_STORE_PATH=/data/relay.db \
    RELAY_DELIVERY_MAILDIR=/data/maildir \
    RELAY_DELIVERY_BOUNCE_KEY=/data/bounce.key \
    RELAY_DKIM_KEY=/data/dkim/relay.pem \
    RELAY_DKIM_ED25519_KEY=/data/dkim/relay-ed25519.pem \
    RELAY_SUBMISSION_TLS_CERT=/data/tls/cert.pem \
    RELAY_SUBMISSION_TLS_KEY=/data/tls/key.pem

# uid/gid 10001. /inbox is for compose.yaml's catch-all inbox service (same image). A new
# named volume takes its owner and mode from these directories.
RUN groupadd --gid 10001 relay \
 && useradd --uid 10001 --gid relay --no-log-init --no-create-home --home-dir /data \
        --shell /usr/sbin/nologin relay \
 && mkdir -p /data/maildir /data/dkim /data/tls /inbox \
 && chown -R relay:relay /data /inbox \
 && chmod 0750 /data /inbox

COPY --from=build /opt/venv /opt/venv
COPY config/relay.docker.toml /etc/relay/relay.toml

# Numeric, so a runtime (e.g. Kubernetes runAsNonRoot) can tell it is not root.
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# SMTP, submission, HTTP API (ports of /etc/relay/relay.toml)
EXPOSE 2525 2587 8025
# `relay serve` drains on SIGTERM for up to shutdown_grace (30 s): give `docker stop` -t 40.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('RELAY_API_PORT', '8025'), timeout=4)"]

# `relay serve` applies pending migrations first.
ENTRYPOINT ["relay"]
CMD ["serve"]
