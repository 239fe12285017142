"""Every action cbslocal does not implement checks its input against the official contract
(api/contract/) before answering UnsupportedOperation — through the Python SDK, over the wire."""

from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from cbslocal.api import contract
from cbslocal.router.services import build_registry
from tests.e2e.server import common_client

REGISTRY = build_registry()
UNIMPLEMENTED = sorted((service.name, action) for service in REGISTRY.services.values()
                       for action in service.known_actions if action not in service.actions)


def _value(service: str, spec: dict):
    """A value the contract accepts for a member."""
    kind = spec["type"]
    if kind == "list":
        of = spec["of"]
        item = {"type": of} if of in ("string", "uint64", "int64", "bool", "float") else \
            {"type": "object", "of": of}
        return [_value(service, item)]
    if kind == "object":
        return _valid(service, spec["of"])
    if "enum" in spec:
        return spec["enum"][0]
    return {"string": "x", "uint64": 1, "int64": 1, "bool": True, "float": 1.5}[kind]


def _valid(service: str, object_name: str) -> dict:
    """The object with every required member, and nothing else."""
    members = contract.description(service)["objects"][object_name]
    return {name: _value(service, spec) for name, spec in members.items() if spec.get("required")}


def _call(server, service: str, action: str, params: dict) -> str:
    client = common_client(server, service=service, version=contract.version(service))
    with pytest.raises(TencentCloudSDKException) as failure:
        client.call_json(action, params)
    return failure.value.code


def test_the_unimplemented_actions_are_the_rest_of_the_contract():
    assert len(UNIMPLEMENTED) == 61 + 106 - sum(len(s.actions) for s in REGISTRY.services.values())
    assert ("cbs", "DescribeDiskStoragePool") in UNIMPLEMENTED


@pytest.mark.parametrize("service, action", UNIMPLEMENTED)
def test_an_unimplemented_action_validates_then_refuses(server, service, action):
    request = contract.description(service)["actions"][action]
    members = contract.description(service)["objects"][request]
    valid = _valid(service, request)
    assert _call(server, service, action, valid) == "UnsupportedOperation"
    assert _call(server, service, action, {**valid, "CbslocalNoSuchParameter": 1}) == \
        "UnknownParameter"
    required = sorted(name for name, spec in members.items() if spec.get("required"))
    if required:
        missing = {k: v for k, v in valid.items() if k != required[0]}
        assert _call(server, service, action, missing) == "MissingParameter"
    numbers = sorted(name for name, spec in members.items() if spec["type"] in ("uint64", "int64"))
    if numbers:
        assert _call(server, service, action, {**valid, numbers[0]: "many"}) == "InvalidParameter"
