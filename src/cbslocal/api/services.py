"""The services cbslocal serves, each action bound to its request schema and domain handler."""

from __future__ import annotations

from cbslocal.api.cbs_schema import (CBS_ACTIONS, CBS_VERSION, CreateDisksRequest,
                                     DescribeDisksRequest)
from cbslocal.api.registry import Registry, Service
from cbslocal.cbs import disks


def build_registry() -> Registry:
    cbs = Service("cbs", CBS_VERSION, CBS_ACTIONS)
    cbs.action("CreateDisks", CreateDisksRequest, mutating=True)(disks.create_disks)
    cbs.action("DescribeDisks", DescribeDisksRequest, mutating=False)(disks.describe_disks)
    return Registry([cbs])
