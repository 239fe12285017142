"""The operator's control plane: its endpoints (http.py, loaded at its first request), who may call
it (auth.py), its inputs (inputs.py) and its client (client.py)."""

PREFIX = "/_cbslocal"
