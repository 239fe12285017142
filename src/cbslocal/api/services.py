"""The services cbslocal serves, each action bound to its request schema and domain handler."""

from __future__ import annotations

from cbslocal.api import cbs_schema as cbs_api
from cbslocal.api import cvm_schema as cvm_api
from cbslocal.api.registry import Registry, Service
from cbslocal.cbs import attachments, config_quota, disks, lifecycle
from cbslocal.cvm import instances


def build_registry() -> Registry:
    cbs = Service("cbs", cbs_api.CBS_VERSION, cbs_api.CBS_ACTIONS)
    for name, request, handler, mutating in (
        ("CreateDisks", cbs_api.CreateDisksRequest, disks.create_disks, True),
        ("DescribeDisks", cbs_api.DescribeDisksRequest, disks.describe_disks, False),
        ("AttachDisks", cbs_api.AttachDisksRequest, attachments.attach_disks, True),
        ("DetachDisks", cbs_api.DetachDisksRequest, attachments.detach_disks, True),
        ("DescribeInstancesDiskNum", cbs_api.DescribeInstancesDiskNumRequest,
         attachments.describe_instances_disk_num, False),
        ("TerminateDisks", cbs_api.TerminateDisksRequest, lifecycle.terminate_disks, True),
        ("ResizeDisk", cbs_api.ResizeDiskRequest, lifecycle.resize_disk, True),
        ("ModifyDiskAttributes", cbs_api.ModifyDiskAttributesRequest,
         lifecycle.modify_disk_attributes, True),
        ("InitializeDisks", cbs_api.InitializeDisksRequest, lifecycle.initialize_disks, True),
        ("DescribeDiskConfigQuota", cbs_api.DescribeDiskConfigQuotaRequest,
         config_quota.describe_disk_config_quota, False),
    ):
        cbs.action(name, request, mutating=mutating)(handler)
    cvm = Service("cvm", cvm_api.CVM_VERSION, cvm_api.CVM_ACTIONS)
    for name, request, handler, mutating in (
        ("RunInstances", cvm_api.RunInstancesRequest, instances.run_instances, True),
        ("DescribeInstances", cvm_api.DescribeInstancesRequest, instances.describe_instances, False),
        ("StartInstances", cvm_api.StartInstancesRequest, instances.start_instances, True),
        ("StopInstances", cvm_api.StopInstancesRequest, instances.stop_instances, True),
        ("RebootInstances", cvm_api.RebootInstancesRequest, instances.reboot_instances, True),
        ("TerminateInstances", cvm_api.TerminateInstancesRequest, instances.terminate_instances, True),
    ):
        cvm.action(name, request, mutating=mutating)(handler)
    return Registry([cbs, cvm])
