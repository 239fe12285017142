"""The request contract (api/contract/): current with the pinned API description, complete, and
the shape of every hand-refined request model."""

from __future__ import annotations

import importlib.util
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from cbslocal.api import contract
from cbslocal.api.errors import ApiError
from cbslocal.api.schema import parse
from cbslocal.router.services import build_registry

TOOL = Path(__file__).resolve().parents[2] / "tools" / "generate_contract.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_contract", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("service", ["cbs", "cvm"])
def test_the_checked_in_contract_is_current(service):
    generator = _generator()
    checked_in = (generator.OUT / f"{service}.json").read_text("utf-8")
    assert checked_in == generator.rendered(service), "run tools/generate_contract.py"


def test_every_action_of_the_description_has_a_model():
    generator = _generator()
    for service in contract.services():
        described = set(generator.description(service)["actions"])
        assert contract.actions(service) == described
        for action in sorted(described):
            assert issubclass(contract.request_model(service, action), BaseModel)
    assert len(contract.actions("cbs")) == 61 and len(contract.actions("cvm")) == 106


def test_the_models_are_strict_and_typed():
    model = contract.request_model("cbs", "CreateDisks")
    good = {"Placement": {"Zone": "ap-guangzhou-3"}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": "CLOUD_PREMIUM", "DiskSize": "50"}
    assert parse(model, good).DiskSize == 50  # a flattened GET sends numbers as text
    for bad, code, field in (
            ({**good, "Colour": 1}, "UnknownParameter", "Colour"),
            ({k: v for k, v in good.items() if k != "DiskType"}, "MissingParameter", "DiskType"),
            ({**good, "DiskSize": "fifty"}, "InvalidParameter", "DiskSize"),
            ({**good, "Placement": {"Zone": "z", "Floor": 1}}, "UnknownParameter",
             "Placement.Floor"),
            ({**good, "DiskChargeType": "MONTHLY"}, "InvalidParameterValue", "DiskChargeType")):
        with pytest.raises(ApiError) as failure:
            parse(model, bad)
        assert failure.value.code == code and f"`{field}`" in failure.value.message("en-US")


def test_an_enum_is_kept_only_when_the_description_gives_it_in_full():
    enum_of = _generator().enum_of
    assert enum_of("<li>ASC：升序</li><li>DESC：降序</li>") == ["ASC", "DESC"]
    assert enum_of("例如<li>ASC：升序</li><li>其他说明</li>") is None
    assert enum_of("<li>ONLY：一个</li>") is None


def _shape(model) -> dict:
    """{member: (required, the shape of a nested object or None)}, types aside."""
    shape = {}
    for name, field in model.model_fields.items():
        nested = None
        for kind in _kinds(field.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                nested = _shape(kind)
        shape[name] = (field.is_required(), nested)
    return shape


def _kinds(annotation) -> list:
    found, pending = [], [annotation]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending += [a for a in typing.get_args(kind) if a is not None]
    return found


@pytest.mark.parametrize("service, action", sorted(
    (s.name, a) for s in build_registry().services.values() for a in s.actions))
def test_a_refined_model_has_the_contracts_shape(service, action):
    """An implemented action may narrow types (enums, ranges) but names, requires and nests
    exactly what the contract does."""
    refined = build_registry().services[service].actions[action].request
    assert _shape(refined) == _shape(contract.request_model(service, action))
