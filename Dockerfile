# The relay as a service: slim Python, non-root, state in one volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RELAY_CONFIG=/app/config/relay.toml \
    RELAY_STORE_PATH=/data/relay.db \
    RELAY_DELIVERY_MAILDIR=/data/maildir \
    RELAY_DKIM_KEY=/data/dkim/relay.pem \
    RELAY_DELIVERY_BOUNCE_KEY=/data/bounce.key \
    RELAY_SUBMISSION_TLS_CERT=/data/tls/cert.pem \
    RELAY_SUBMISSION_TLS_KEY=/data/tls/key.pem \
    RELAY_SUBMISSION_HOST=0.0.0.0 \
    RELAY_SMTP_HOST=0.0.0.0

RUN groupadd --system relay && useradd --system --gid relay --home-dir /app relay

WORKDIR /app
COPY pyproject.toml README.md ./
COPY relay ./relay
COPY migrations ./migrations
COPY config ./config
# Editable, so the code finds migrations/ beside it.
RUN pip install -e . && mkdir -p /data && chown relay:relay /data

USER relay
VOLUME ["/data"]
EXPOSE 2525 2587
STOPSIGNAL SIGTERM
CMD ["relay", "serve"]
