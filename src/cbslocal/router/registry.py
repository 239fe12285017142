"""Services and their actions: (service, action) → request schema + handler.

Which service a call is for comes from the TC3 credential scope when it names one we serve
(`cbs`, `cvm`); otherwise (Node signs `127`, v1 carries no scope) from the action's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cbslocal.api import contract
from cbslocal.api.schema import Request


@dataclass(frozen=True)
class Action:
    name: str
    request: type[Request]
    handler: Callable
    mutating: bool
    # Takes a ClientToken: the first answer to a token is the answer to every retry (idempotency.py).
    client_token: bool = False


@dataclass
class Service:
    name: str
    version: str
    # Every action the real service has (api/contract/): those not implemented validate their
    # input, then answer UnsupportedOperation.
    known_actions: frozenset[str]
    actions: dict[str, Action] = field(default_factory=dict)

    @classmethod
    def of_contract(cls, name: str) -> "Service":
        return cls(name, contract.version(name), contract.actions(name))

    def unimplemented_request(self, action: str) -> type[Request]:
        """The request model of an action the service has and cbslocal does not implement."""
        return contract.request_model(self.name, action)

    def action(self, name: str, request: type[Request] | None, *, mutating: bool,
               client_token: bool = False):
        """Bind `name` to its handler; `request` None: the contract's model as it is (a model of
        the action's own narrows types, with the contract's shape: tests/unit/test_contract.py)."""
        def register(handler: Callable) -> Callable:
            if name not in self.known_actions:
                raise ValueError(f"{self.name} has no action {name}")
            model = request or contract.request_model(self.name, name)
            if client_token and not (mutating and "ClientToken" in model.model_fields):
                raise ValueError(f"{name} takes no ClientToken")
            self.actions[name] = Action(name, model, handler, mutating, client_token)
            return handler
        return register


class Registry:
    def __init__(self, services: list[Service]):
        self.services = {s.name: s for s in services}
        self._order = services

    def service_for(self, scope_service: str, action: str) -> Service | None:
        """The service named by the signature's scope, else the first that has the action."""
        named = self.services.get(scope_service)
        if named is not None:
            return named
        for service in self._order:
            if action in service.known_actions:
                return service
        return None
