"""The HTTP API: bearer tokens, the endpoints, and the server on the relay's event loop."""
