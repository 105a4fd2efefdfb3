"""A client library for ComfyUI servers.

comfy.protocol  the websocket protocol: typed messages (comfy.messages), previews (comfy.previews)
comfy.client    the HTTP API (ComfyClient) and its typed answers (comfy.models)
comfy.stream    one long-lived websocket per server (ComfyEventStream)
comfy.errors    the exception hierarchy
"""

KONTEXT_CLIENT = True
"""Tells this package apart from ComfyUI's own `comfy` package, which has the same name."""
