"""What a handler receives besides its typed request: who, where, when, and the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from cbslocal.api.errors import EN_US
from cbslocal.api.rendered import Rendered
from cbslocal.config import Topology
from cbslocal.engine.timing import TimingProfile


@dataclass(slots=True)
class Context:
    account_id: str
    region: str
    language: str
    request_id: str
    now: float
    conn: Connection
    topology: Topology
    timing: TimingProfile
    rendered: Rendered | None = None  # this process's kept objects; None: render every one
    secret_id: str = ""  # the key that signed the call
    action: str = ""  # the action called (what the ledger records an order under)

    @property
    def english(self) -> bool:
        return self.language == EN_US
