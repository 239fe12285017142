"""What the gateway hands the router: one verified call, its parameters unflattened."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ApiCall:
    scope_service: str  # as signed (TC3 credential scope); "" for v1
    version: str | None
    action: str | None
    region: str | None
    params: dict
    secret_id: str
    account_id: str
    language: str | None
    signature_method: str
    service: str = ""  # the service that serves the action, once the dispatcher knows it
