"""The marketplace's model: conversations, parties, templates, the message center and
response times."""
