"""The web message center on the API's port: sellers sign in with their submission password
to read, answer and mark their messages and see their response time; operators sign in with
an admin API token to look conversations, deliveries and buyers' opt-outs up.

Server-rendered (Jinja2 templates and static files shipped as package data); every page works
without JavaScript. The pages call the same marketplace and store functions as the API.
"""
