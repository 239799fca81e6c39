"""Bots: accounts staff make, that post through the HTTP API with a token (api.py) and may be
told of mentions through an outgoing webhook (webhooks.py)."""
