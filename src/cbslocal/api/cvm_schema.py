"""The request models of the CVM actions cbslocal implements (cbs-behavior.md §8.1), narrowing
the types of the contract (api/contract/cvm.json) with exactly its members, and the Instance
object with exactly the fields of the official SDK model.

Objects cbslocal does not act on (EnhancedService, ActionTimer, Metadata…) are taken as the
contract has them (`_contract`): checked, then left alone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

import orjson

from cbslocal.api import contract
from cbslocal.api.cbs_objects import Filter, Tag
from cbslocal.api.schema import Bool, Int64, Request, RequiredList, UInt

def _contract(name: str):
    """A nested object cbslocal takes as the contract has it, and does not act on."""
    return contract.object_model("cvm", name)


ChargeTypeName = Literal["PREPAID", "POSTPAID_BY_HOUR", "SPOTPAID"]
RenewFlagName = Literal["NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW",
                    "DISABLE_NOTIFY_AND_MANUAL_RENEW"]


class CvmPlacement(Request):
    Zone: str
    ProjectId: Int64 | None = None
    HostIds: list[str] | None = None
    HostId: str | None = None
    DedicatedResourcePackTenancy: str | None = None
    DedicatedResourcePackIds: list[str] | None = None
    RackId: str | None = None


class InstanceChargePrepaidObject(Request):
    Period: Int64
    RenewFlag: RenewFlagName | None = None


class SystemDiskObject(Request):
    DiskType: str | None = None
    DiskId: str | None = None
    DiskSize: Int64 | None = None
    CdcId: str | None = None
    DiskName: str | None = None
    Encrypt: Bool | None = None
    KmsKeyId: str | None = None


class DataDiskObject(Request):
    DiskSize: Int64
    DiskType: str | None = None
    DiskId: str | None = None
    DeleteWithInstance: Bool | None = None
    SnapshotId: str | None = None
    Encrypt: Bool | None = None
    KmsKeyId: str | None = None
    ThroughputPerformance: Int64 | None = None
    CdcId: str | None = None
    BurstPerformance: Bool | None = None
    DiskName: str | None = None


class VirtualPrivateCloudObject(Request):
    VpcId: str
    SubnetId: str
    AsVpcGateway: Bool | None = None
    PrivateIpAddresses: list[str] | None = None
    Ipv6AddressCount: UInt | None = None


class InternetAccessibleObject(Request):
    InternetChargeType: str | None = None
    InternetMaxBandwidthOut: Int64 | None = None
    PublicIpAssigned: Bool | None = None
    BandwidthPackageId: str | None = None
    InternetServiceProvider: str | None = None
    IPv4AddressType: str | None = None
    IPv6AddressType: str | None = None
    AntiDDoSPackageId: str | None = None


class LoginSettingsObject(Request):
    Password: str | None = None
    KeyIds: list[str] | None = None
    KeepImageLogin: str | None = None


class TagSpecificationObject(Request):
    ResourceType: str
    Tags: list[Tag]


class RunInstancesRequest(Request):
    InstanceChargeType: ChargeTypeName | None = None
    InstanceChargePrepaid: InstanceChargePrepaidObject | None = None
    Placement: CvmPlacement | None = None
    InstanceType: str | None = None
    ImageId: str | None = None
    SystemDisk: SystemDiskObject | None = None
    DataDisks: list[DataDiskObject] | None = None
    VirtualPrivateCloud: VirtualPrivateCloudObject | None = None
    InternetAccessible: InternetAccessibleObject | None = None
    InstanceCount: Int64 | None = None
    MinCount: Int64 | None = None
    InstanceName: str | None = None
    LoginSettings: LoginSettingsObject | None = None
    SecurityGroupIds: list[str] | None = None
    EnhancedService: _contract("EnhancedService") | None = None
    ClientToken: str | None = None
    HostName: str | None = None
    ActionTimer: _contract("ActionTimer") | None = None
    DisasterRecoverGroupIds: list[str] | None = None
    TagSpecification: list[TagSpecificationObject] | None = None
    InstanceMarketOptions: _contract("InstanceMarketOptionsRequest") | None = None
    UserData: str | None = None
    Metadata: _contract("Metadata") | None = None
    DryRun: Bool | None = None
    CpuTopology: _contract("CpuTopology") | None = None
    CamRoleName: str | None = None
    HpcClusterId: str | None = None
    LaunchTemplate: _contract("LaunchTemplate") | None = None
    DedicatedClusterId: str | None = None
    ChcIds: list[str] | None = None
    PartitionNumber: Int64 | None = None
    DisableApiTermination: Bool | None = None
    EnableJumboFrame: Bool | None = None
    NetworkInterfaces: list[_contract("NetworkInterfaces")] | None = None


class DescribeInstancesRequest(Request):
    InstanceIds: list[str] | None = None
    Filters: list[Filter] | None = None
    Offset: Int64 | None = None
    Limit: Int64 | None = None


class StartInstancesRequest(Request):
    InstanceIds: RequiredList


class StopInstancesRequest(Request):
    InstanceIds: RequiredList
    ForceStop: Bool | None = None
    StopType: Literal["SOFT", "HARD", "SOFT_FIRST"] | None = None
    StoppedMode: Literal["KEEP_CHARGING", "STOP_CHARGING"] | None = None


class RebootInstancesRequest(Request):
    InstanceIds: RequiredList
    ForceReboot: Bool | None = None
    StopType: Literal["SOFT", "HARD", "SOFT_FIRST"] | None = None


class TerminateInstancesRequest(Request):
    InstanceIds: RequiredList
    ReleaseAddress: Bool | None = None
    ReleasePrepaidDataDisks: Bool | None = None


class CreateImageRequest(Request):
    ImageName: str
    InstanceId: str | None = None
    ImageDescription: str | None = None
    ForcePoweroff: str | None = None
    Sysprep: str | None = None
    DataDiskIds: list[str] | None = None
    SnapshotIds: list[str] | None = None
    DryRun: Bool | None = None
    TagSpecification: list[TagSpecificationObject] | None = None
    ImageFamily: str | None = None


class DescribeImagesRequest(Request):
    ImageIds: list[str] | None = None
    Filters: list[Filter] | None = None
    Offset: UInt | None = None
    Limit: UInt | None = None
    InstanceType: str | None = None


class DeleteImagesRequest(Request):
    ImageIds: RequiredList
    DeleteBindedSnap: Bool | None = None
    DryRun: Bool | None = None


# --- responses -----------------------------------------------------------------------------------
def iso_time(epoch: float | None) -> str | None:
    """CVM's times: ISO 8601 in UTC, e.g. 2020-03-10T02:43:51Z."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_WINDOWS = "Windows"


def instance_json(ins, *, system_disk, data_disks: list) -> dict:
    """The complete Instance object (48 fields of the SDK model) from an `instances` row, its
    system disk row and its attached data disk rows."""
    windows = ins.os_name.startswith(_WINDOWS)
    prepaid = ins.charge_type == "PREPAID"
    return {
        "Placement": {"Zone": ins.zone, "ProjectId": ins.project_id, "HostIds": [], "HostId": "",
                      "DedicatedResourcePackTenancy": "", "DedicatedResourcePackIds": [],
                      "RackId": ""},
        "InstanceId": ins.instance_id,
        "InstanceType": ins.instance_type,
        "CPU": ins.cpu,
        "Memory": ins.memory,
        "RestrictState": ins.restrict_state,
        "InstanceName": ins.instance_name,
        "InstanceChargeType": ins.charge_type,
        "SystemDisk": _disk_spec(system_disk, system=True) if system_disk is not None else None,
        "DataDisks": [_disk_spec(d, system=False) for d in data_disks],
        "PrivateIpAddresses": [ins.private_ip],
        "PublicIpAddresses": [ins.public_ip] if ins.public_ip else None,
        "InternetAccessible": {
            "InternetChargeType": ins.internet_charge_type,
            "InternetMaxBandwidthOut": ins.bandwidth_out,
            "PublicIpAssigned": ins.public_ip is not None, "BandwidthPackageId": "",
            "InternetServiceProvider": "BGP", "IPv4AddressType": "WanIP", "IPv6AddressType": "",
            "AntiDDoSPackageId": ""},
        "VirtualPrivateCloud": {"VpcId": ins.vpc_id, "SubnetId": ins.subnet_id,
                                "AsVpcGateway": False, "PrivateIpAddresses": [ins.private_ip],
                                "Ipv6AddressCount": 0},
        "ImageId": ins.image_id,
        "RenewFlag": ins.renew_flag if prepaid else "",
        "CreatedTime": iso_time(ins.created_at),
        "ExpiredTime": iso_time(ins.expired_at) if prepaid else None,
        "OsName": ins.os_name,
        "SecurityGroupIds": orjson.Fragment(ins.security_group_ids),
        "LoginSettings": {"Password": "", "KeyIds": [], "KeepImageLogin": ""},
        "InstanceState": ins.instance_state,
        "Tags": orjson.Fragment(ins.tags),
        "StopChargingMode": ins.stop_charging_mode,
        "Uuid": ins.uuid,
        "LatestOperation": ins.latest_operation,
        "LatestOperationState": ins.latest_operation_state,
        "LatestOperationRequestId": ins.latest_operation_request_id,
        "DisasterRecoverGroupId": "",
        "IPv6Addresses": None,
        "CamRoleName": "",
        "HpcClusterId": "",
        "RdmaIpAddresses": None,
        "DedicatedClusterId": "",
        "IsolatedSource": "MANMADE" if ins.instance_state == "SHUTDOWN" else "NOTISOLATED",
        "DisasterRecoverGroupIds": [],
        "GPUInfo": None,
        "LicenseType": "TencentCloud",
        "DisableApiTermination": bool(ins.disable_api_termination),
        "HostName": ins.host_name,
        "DefaultLoginUser": "Administrator" if windows else "root",
        "DefaultLoginPort": 3389 if windows else 22,
        "LatestOperationErrorMsg": "",
        "EnableJumboFrame": False,
        "Metadata": {"Items": []},
        "PublicIPv6Addresses": [],
        "CpuTopology": None,
        "PartitionNumber": 0,
    }


def _disk_spec(disk, *, system: bool) -> dict:
    spec = {"DiskType": disk.disk_type, "DiskId": disk.disk_id, "DiskSize": disk.disk_size,
            "CdcId": None, "DiskName": disk.disk_name, "Encrypt": bool(disk.encrypt),
            "KmsKeyId": disk.kms_key_id}
    if not system:
        spec.update({"DeleteWithInstance": bool(disk.delete_with_instance),
                     "SnapshotId": disk.source_snapshot_id or "",
                     "ThroughputPerformance": disk.throughput_performance,
                     "BurstPerformance": bool(disk.burst_performance)})
    return spec


def image_json(image, *, snapshot_set: list[dict], public: bool = False) -> dict:
    """The complete Image object (20 fields of the SDK model): a custom image (an `images` row) or
    one of the configured public images."""
    return {
        "ImageId": image.image_id,
        "OsName": image.os_name,
        "ImageType": "PUBLIC_IMAGE" if public else "PRIVATE_IMAGE",
        "CreatedTime": iso_time(image.created_at),
        "ImageName": image.image_name,
        "ImageDescription": image.image_description,
        "ImageSize": image.image_size,
        "Architecture": image.architecture,
        "ImageState": image.image_state,
        "Platform": image.platform,
        "ImageCreator": "" if public else image.account_id,
        "ImageSource": "OFFICIAL" if public else "CREATE_IMAGE",
        "SyncPercent": 100 if image.image_state == "NORMAL" else 0,
        "IsSupportCloudinit": True,
        "SnapshotSet": snapshot_set,
        "Tags": orjson.Fragment(image.tags),
        "LicenseType": "TencentCloud",
        "ImageFamily": "",
        "ImageDeprecated": False,
        "CdcCacheStatus": "",
    }
