"""The services cbslocal serves, each action bound to its request schema and domain handler."""

from __future__ import annotations

from cbslocal.api import cbs_schema as cbs_api
from cbslocal.api import cvm_schema as cvm_api
from cbslocal.api import snapshot_schema as snap_api
from cbslocal.api.registry import Registry, Service
from cbslocal.cbs import attachments, config_quota, disks, lifecycle, policies, snapshots
from cbslocal.cvm import images, instances


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
        ("CreateSnapshot", snap_api.CreateSnapshotRequest, snapshots.create_snapshot, True),
        ("DescribeSnapshots", snap_api.DescribeSnapshotsRequest, snapshots.describe_snapshots, False),
        ("DeleteSnapshots", snap_api.DeleteSnapshotsRequest, snapshots.delete_snapshots, True),
        ("ApplySnapshot", snap_api.ApplySnapshotRequest, snapshots.apply_snapshot, True),
        ("ModifySnapshotAttribute", snap_api.ModifySnapshotAttributeRequest,
         snapshots.modify_snapshot_attribute, True),
        ("ModifySnapshotsSharePermission", snap_api.ModifySnapshotsSharePermissionRequest,
         snapshots.modify_snapshots_share_permission, True),
        ("DescribeSnapshotSharePermission", snap_api.DescribeSnapshotSharePermissionRequest,
         snapshots.describe_snapshot_share_permission, False),
        ("CopySnapshotCrossRegions", snap_api.CopySnapshotCrossRegionsRequest,
         snapshots.copy_snapshot_cross_regions, True),
        ("DescribeSnapshotOverview", snap_api.NoParametersRequest,
         snapshots.describe_snapshot_overview, False),
        ("GetSnapOverview", snap_api.NoParametersRequest, snapshots.describe_snapshot_overview, False),
        ("CreateAutoSnapshotPolicy", snap_api.CreateAutoSnapshotPolicyRequest,
         policies.create_auto_snapshot_policy, True),
        ("DescribeAutoSnapshotPolicies", snap_api.DescribeAutoSnapshotPoliciesRequest,
         policies.describe_auto_snapshot_policies, False),
        ("ModifyAutoSnapshotPolicyAttribute", snap_api.ModifyAutoSnapshotPolicyAttributeRequest,
         policies.modify_auto_snapshot_policy_attribute, True),
        ("DeleteAutoSnapshotPolicies", snap_api.DeleteAutoSnapshotPoliciesRequest,
         policies.delete_auto_snapshot_policies, True),
        ("BindAutoSnapshotPolicy", snap_api.BindAutoSnapshotPolicyRequest,
         policies.bind_auto_snapshot_policy, True),
        ("UnbindAutoSnapshotPolicy", snap_api.UnbindAutoSnapshotPolicyRequest,
         policies.unbind_auto_snapshot_policy, True),
        ("DescribeDiskAssociatedAutoSnapshotPolicy",
         snap_api.DescribeDiskAssociatedAutoSnapshotPolicyRequest,
         policies.describe_disk_associated_auto_snapshot_policy, False),
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
        ("CreateImage", cvm_api.CreateImageRequest, images.create_image, True),
        ("DescribeImages", cvm_api.DescribeImagesRequest, images.describe_images, False),
        ("DeleteImages", cvm_api.DeleteImagesRequest, images.delete_images, True),
    ):
        cvm.action(name, request, mutating=mutating)(handler)
    return Registry([cbs, cvm])
