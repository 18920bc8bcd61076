"""Running the relay: Prometheus metrics, logs, reload."""
