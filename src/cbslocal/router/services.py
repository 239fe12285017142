"""The services cbslocal serves, each action bound to its request schema and domain handler."""

from __future__ import annotations

from cbslocal.api import cbs_schema as cbs_api
from cbslocal.api import cvm_schema as cvm_api
from cbslocal.api import snapshot_schema as snap_api
from cbslocal.router.registry import Registry, Service
from cbslocal.cbs import (attachments, config_quota, disks, lifecycle, policies, prepaid,
                          price_inquiries, rollback, snapshot_copies, snapshot_sharing,
                          snapshots)
from cbslocal.cvm import images, instances


READ = {"mutating": False}
WRITE = {"mutating": True}
# A write whose ClientToken makes a retry answer what the first call did (idempotency.py).
WRITE_ONCE_PER_TOKEN = {"mutating": True, "client_token": True}


def _register(service: Service, rows) -> None:
    for name, request, handler, kind in rows:
        service.action(name, request, **kind)(handler)


def build_registry() -> Registry:
    cbs = Service.of_contract("cbs")
    _register(cbs, (
        ("CreateDisks", cbs_api.CreateDisksRequest, disks.create_disks, WRITE_ONCE_PER_TOKEN),
        ("DescribeDisks", cbs_api.DescribeDisksRequest, disks.describe_disks, READ),
        ("AttachDisks", cbs_api.AttachDisksRequest, attachments.attach_disks, WRITE),
        ("DetachDisks", cbs_api.DetachDisksRequest, attachments.detach_disks, WRITE),
        ("DescribeInstancesDiskNum", cbs_api.DescribeInstancesDiskNumRequest,
         attachments.describe_instances_disk_num, READ),
        ("TerminateDisks", cbs_api.TerminateDisksRequest, lifecycle.terminate_disks, WRITE),
        ("ResizeDisk", cbs_api.ResizeDiskRequest, lifecycle.resize_disk, WRITE),
        ("ModifyDiskAttributes", cbs_api.ModifyDiskAttributesRequest,
         lifecycle.modify_disk_attributes, WRITE),
        ("InitializeDisks", cbs_api.InitializeDisksRequest, lifecycle.initialize_disks, WRITE),
        ("DescribeDiskConfigQuota", cbs_api.DescribeDiskConfigQuotaRequest,
         config_quota.describe_disk_config_quota, READ),
        ("InquiryPriceCreateDisks", cbs_api.InquiryPriceCreateDisksRequest,
         price_inquiries.inquiry_price_create_disks, READ),
        ("InquiryPriceRenewDisks", cbs_api.InquiryPriceRenewDisksRequest,
         price_inquiries.inquiry_price_renew_disks, READ),
        ("InquiryPriceResizeDisk", cbs_api.InquiryPriceResizeDiskRequest,
         price_inquiries.inquiry_price_resize_disk, READ),
        ("RenewDisk", cbs_api.RenewDiskRequest, prepaid.renew_disk, WRITE),
        ("ModifyDiskExtraPerformance", cbs_api.ModifyDiskExtraPerformanceRequest,
         lifecycle.modify_disk_extra_performance, WRITE),
        ("InquirePriceModifyDiskExtraPerformance",
         cbs_api.InquirePriceModifyDiskExtraPerformanceRequest,
         price_inquiries.inquire_price_modify_disk_extra_performance, READ),
        ("ModifyDisksChargeType", cbs_api.ModifyDisksChargeTypeRequest,
         prepaid.modify_disks_charge_type, WRITE),
        ("ModifyDisksRenewFlag", cbs_api.ModifyDisksRenewFlagRequest,
         prepaid.modify_disks_renew_flag, WRITE),
        ("CreateSnapshot", snap_api.CreateSnapshotRequest, snapshots.create_snapshot, WRITE),
        ("DescribeSnapshots", snap_api.DescribeSnapshotsRequest, snapshots.describe_snapshots, READ),
        ("DeleteSnapshots", snap_api.DeleteSnapshotsRequest, snapshots.delete_snapshots, WRITE),
        ("ApplySnapshot", snap_api.ApplySnapshotRequest, rollback.apply_snapshot, WRITE),
        ("ModifySnapshotAttribute", snap_api.ModifySnapshotAttributeRequest,
         snapshots.modify_snapshot_attribute, WRITE),
        ("ModifySnapshotsSharePermission", snap_api.ModifySnapshotsSharePermissionRequest,
         snapshot_sharing.modify_snapshots_share_permission, WRITE),
        ("DescribeSnapshotSharePermission", snap_api.DescribeSnapshotSharePermissionRequest,
         snapshot_sharing.describe_snapshot_share_permission, READ),
        ("CopySnapshotCrossRegions", snap_api.CopySnapshotCrossRegionsRequest,
         snapshot_copies.copy_snapshot_cross_regions, WRITE),
        ("DescribeSnapshotOverview", snap_api.NoParametersRequest,
         snapshots.describe_snapshot_overview, READ),
        ("GetSnapOverview", snap_api.NoParametersRequest, snapshots.describe_snapshot_overview, READ),
        ("CreateAutoSnapshotPolicy", snap_api.CreateAutoSnapshotPolicyRequest,
         policies.create_auto_snapshot_policy, WRITE),
        ("DescribeAutoSnapshotPolicies", snap_api.DescribeAutoSnapshotPoliciesRequest,
         policies.describe_auto_snapshot_policies, READ),
        ("ModifyAutoSnapshotPolicyAttribute", snap_api.ModifyAutoSnapshotPolicyAttributeRequest,
         policies.modify_auto_snapshot_policy_attribute, WRITE),
        ("DeleteAutoSnapshotPolicies", snap_api.DeleteAutoSnapshotPoliciesRequest,
         policies.delete_auto_snapshot_policies, WRITE),
        ("BindAutoSnapshotPolicy", snap_api.BindAutoSnapshotPolicyRequest,
         policies.bind_auto_snapshot_policy, WRITE),
        ("UnbindAutoSnapshotPolicy", snap_api.UnbindAutoSnapshotPolicyRequest,
         policies.unbind_auto_snapshot_policy, WRITE),
        ("DescribeDiskAssociatedAutoSnapshotPolicy",
         snap_api.DescribeDiskAssociatedAutoSnapshotPolicyRequest,
         policies.describe_disk_associated_auto_snapshot_policy, READ),
    ))
    cvm = Service.of_contract("cvm")
    _register(cvm, (
        ("RunInstances", cvm_api.RunInstancesRequest, instances.run_instances, WRITE_ONCE_PER_TOKEN),
        ("DescribeInstances", cvm_api.DescribeInstancesRequest, instances.describe_instances, READ),
        ("StartInstances", cvm_api.StartInstancesRequest, instances.start_instances, WRITE),
        ("StopInstances", cvm_api.StopInstancesRequest, instances.stop_instances, WRITE),
        ("RebootInstances", cvm_api.RebootInstancesRequest, instances.reboot_instances, WRITE),
        ("TerminateInstances", cvm_api.TerminateInstancesRequest, instances.terminate_instances, WRITE),
        ("CreateImage", cvm_api.CreateImageRequest, images.create_image, WRITE),
        ("DescribeImages", cvm_api.DescribeImagesRequest, images.describe_images, READ),
        ("DeleteImages", cvm_api.DeleteImagesRequest, images.delete_images, WRITE),
    ))
    return Registry([cbs, cvm])
