"""What identity knows of a caller: keys and the credentials handed out for them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyRecord:
    secret_id: str
    secret_key: str
    account_id: str
    enabled: bool
    token: str | None
    expires_at: float | None


@dataclass(frozen=True)
class Credentials:
    account_id: str
    app_id: int
    secret_id: str
    secret_key: str
    token: str | None = None
    expires_at: float | None = None

    def as_json(self) -> dict:
        out = {"AccountId": self.account_id, "AppId": self.app_id, "SecretId": self.secret_id,
               "SecretKey": self.secret_key}
        if self.token is not None:
            out["Token"] = self.token
            out["ExpiresAt"] = self.expires_at
        return out
