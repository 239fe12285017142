"""The service tables: what the router is told of each action."""

from __future__ import annotations

import pytest

from cbslocal.api import cbs_schema
from cbslocal.router.registry import Service
from cbslocal.router.services import build_registry


def test_the_actions_that_take_a_client_token_are_flagged():
    registry = build_registry()
    flagged = {(s.name, a.name) for s in registry.services.values()
               for a in s.actions.values() if a.client_token}
    assert flagged == {("cbs", "CreateDisks"), ("cvm", "RunInstances")}
    # Every action whose request has a ClientToken is flagged: none would silently ignore it.
    takes_token = {(s.name, a.name) for s in registry.services.values()
                   for a in s.actions.values() if "ClientToken" in a.request.model_fields}
    assert takes_token == flagged


def test_a_client_token_flag_needs_a_write_with_a_client_token():
    service = Service.of_contract("cbs")
    with pytest.raises(ValueError, match="takes no ClientToken"):
        service.action("AttachDisks", cbs_schema.AttachDisksRequest, mutating=True,
                       client_token=True)(lambda ctx, request: {})
    with pytest.raises(ValueError, match="takes no ClientToken"):
        service.action("CreateDisks", cbs_schema.CreateDisksRequest, mutating=False,
                       client_token=True)(lambda ctx, request: {})


def test_an_action_without_a_model_of_its_own_takes_the_contracts():
    from cbslocal.api import contract

    service = Service.of_contract("cbs")
    service.action("DescribeDiskStoragePool", None, mutating=False)(lambda ctx, request: {})
    assert service.actions["DescribeDiskStoragePool"].request is \
        contract.request_model("cbs", "DescribeDiskStoragePool")

