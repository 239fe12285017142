"""Instances and the whole disk lifecycle through the official Python SDKs (CBS and CVM on one
endpoint), under both timing profiles: every action of issue 3 and the exact code of every
refusal (cbs-behavior.md §3.3-3.7, §3.14-3.15, §5.1, §7, §8)."""

from __future__ import annotations

import json
import time

import pytest
from tencentcloud.cbs.v20170312 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import Server, cbs_client, common_client, cvm_client

ZONE, OTHER_ZONE = "ap-guangzhou-3", "ap-guangzhou-4"
PREMIUM_ONLY_ZONE, STOCKED_ZONE = "ap-guangzhou-6", "ap-guangzhou-7"
IMAGE, TYPE = "img-pmqg1cw7", "S5.MEDIUM4"
CONFIG = f"""
[regions.ap-guangzhou.sold_disk_types]
"{PREMIUM_ONLY_ZONE}" = ["CLOUD_PREMIUM"]

[stock.{STOCKED_ZONE}]
CLOUD_SSD = 100
"""


def request(model, **fields):
    req = model()
    req.from_json_string(json.dumps(fields))
    return req


class World:
    """A server and the official clients, with the waits a real client would do."""

    def __init__(self, server: Server):
        self.server = server
        self.timing = server.timing
        self.cbs = cbs_client(server)
        self.cvm = cvm_client(server)

    @property
    def realistic(self) -> bool:
        return self.timing == "realistic"

    # CVM
    def run(self, zone: str = ZONE, count: int = 1, wait: bool = True, **fields) -> list[str]:
        body = {"Placement": {"Zone": zone}, "ImageId": IMAGE, "InstanceType": TYPE,
                "InstanceCount": count}
        body.update(fields)
        instance_ids = self.cvm.RunInstances(request(cvm_models.RunInstancesRequest, **body)).InstanceIdSet
        if wait:
            for instance_id in instance_ids:
                self.wait_instance(instance_id, "RUNNING")
        return instance_ids

    def instance(self, instance_id: str):
        found = self.cvm.DescribeInstances(request(
            cvm_models.DescribeInstancesRequest, InstanceIds=[instance_id])).InstanceSet
        return found[0] if found else None

    def wait_instance(self, instance_id: str, state: str | None):
        return _wait(lambda: self.instance(instance_id),
                     lambda i: (i is None) if state is None else (i is not None and i.InstanceState == state),
                     f"{instance_id} to be {state}")

    # CBS
    def disks(self, **fields) -> list:
        return self.cbs.DescribeDisks(request(models.DescribeDisksRequest, **fields)).DiskSet

    def disk(self, disk_id: str):
        found = self.disks(DiskIds=[disk_id])
        return found[0] if found else None

    def create(self, zone: str = ZONE, wait: bool = True, **fields) -> str:
        body = {"Placement": {"Zone": zone}, "DiskChargeType": "POSTPAID_BY_HOUR",
                "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}
        body.update(fields)
        disk_id = self.cbs.CreateDisks(request(models.CreateDisksRequest, **body)).DiskIdSet[0]
        if wait:
            _wait(lambda: self.disk(disk_id), lambda d: d is not None, f"{disk_id} to be listed")
        return disk_id

    def wait_disk(self, disk_id: str, state: str | None, **fields):
        def done(d):
            if state is None:
                return d is None
            return d is not None and d.DiskState == state and all(
                getattr(d, k) == v for k, v in fields.items())
        return _wait(lambda: self.disk(disk_id), done, f"{disk_id} to be {state} {fields}")

    def attach(self, instance_id: str, *disk_ids: str, **fields) -> None:
        self.cbs.AttachDisks(request(models.AttachDisksRequest, InstanceId=instance_id,
                                     DiskIds=list(disk_ids), **fields))
        for disk_id in disk_ids:
            self.wait_disk(disk_id, "ATTACHED")

    def detach(self, *disk_ids: str, **fields) -> None:
        self.cbs.DetachDisks(request(models.DetachDisksRequest, DiskIds=list(disk_ids), **fields))

    def system_and_data_disks(self, instance_id: str) -> tuple[str, list[str]]:
        found = self.disks(Filters=[{"Name": "instance-id", "Values": [instance_id]}], Limit=100)
        system = [d.DiskId for d in found if d.DiskUsage == "SYSTEM_DISK"]
        data = [d.DiskId for d in found if d.DiskUsage == "DATA_DISK" and not d.Portable]
        return system[0], data


def _wait(read, done, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen {value}")
        time.sleep(0.1)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(TencentCloudSDKException) as failure:
        fn(*args, **kwargs)
    return failure.value.code


@pytest.fixture(scope="module", params=["instant", "realistic"])
def world(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"lifecycle-{request.param}")
    config = base / "cbslocal.toml"
    config.write_text(CONFIG)
    server = Server(base / "data", timing=request.param, config=config).start()
    yield World(server)
    server.stop()
    assert "Traceback" not in server.log_text()


# --- instances and their own disks ------------------------------------------------------------------
def test_run_instances_brings_its_own_disks(world):
    ins = world.cvm.RunInstances(request(
        cvm_models.RunInstancesRequest, Placement={"Zone": ZONE}, ImageId=IMAGE, InstanceType=TYPE,
        InstanceName="web", SystemDisk={"DiskSize": 60},
        DataDisks=[{"DiskSize": 100, "DiskType": "CLOUD_SSD"}])).InstanceIdSet[0]
    if world.realistic:
        assert world.instance(ins).InstanceState == "PENDING"
        assert world.disks(Filters=[{"Name": "instance-id", "Values": [ins]}]) == []  # not yet
    instance = world.wait_instance(ins, "RUNNING")
    assert (instance.InstanceName, instance.InstanceType, instance.CPU, instance.Memory) == ("web", TYPE, 2, 4)
    assert instance.SystemDisk.DiskSize == 60 and len(instance.DataDisks) == 1
    system = world.disk(instance.SystemDisk.DiskId)
    assert (system.DiskUsage, system.DiskState, system.Portable, system.Attached) == ("SYSTEM_DISK", "ATTACHED", False, True)
    assert system.DiskName == "web_SYSTEM_DISK" and system.InstanceId == ins and system.InstanceIdList == [ins]
    assert (system.ReturnFailCode, system.IsReturnable, system.DeleteWithInstance) == (10, False, True)
    data = world.disk(instance.DataDisks[0].DiskId)
    assert (data.DiskUsage, data.DiskType, data.DiskSize, data.Portable) == ("DATA_DISK", "CLOUD_SSD", 100, False)
    detail = world.cbs.DescribeInstancesDiskNum(request(
        models.DescribeInstancesDiskNumRequest, InstanceIds=[ins])).AttachDetail[0]
    assert (detail.InstanceId, detail.AttachedDiskCount, detail.MaxAttachCount) == (ins, 1, 20)


def test_instance_states_move_on_the_clock(world):
    ins = world.run()[0]
    world.cvm.StopInstances(request(cvm_models.StopInstancesRequest, InstanceIds=[ins]))
    if world.realistic:
        assert world.instance(ins).InstanceState == "STOPPING"
        assert code_of(world.cvm.StartInstances, request(
            cvm_models.StartInstancesRequest, InstanceIds=[ins])) == "UnsupportedOperation.InstanceStateStopping"
    world.wait_instance(ins, "STOPPED")
    assert code_of(world.cvm.StopInstances, request(
        cvm_models.StopInstancesRequest, InstanceIds=[ins])) == "UnsupportedOperation.InstanceStateStopped"
    world.cvm.StartInstances(request(cvm_models.StartInstancesRequest, InstanceIds=[ins]))
    world.wait_instance(ins, "RUNNING")
    world.cvm.RebootInstances(request(cvm_models.RebootInstancesRequest, InstanceIds=[ins]))
    if world.realistic:
        assert world.instance(ins).InstanceState == "REBOOTING"
    world.wait_instance(ins, "RUNNING")
    assert code_of(world.cvm.StartInstances, request(
        cvm_models.StartInstancesRequest, InstanceIds=[ins])) == "UnsupportedOperation.InstanceStateRunning"
    assert code_of(world.cvm.StartInstances, request(
        cvm_models.StartInstancesRequest, InstanceIds=["ins-00000000"])) == "InvalidInstanceId.NotFound"
    assert code_of(world.cvm.StartInstances, request(
        cvm_models.StartInstancesRequest, InstanceIds=["ins-1"])) == "InvalidInstanceId.Malformed"
    world.cvm.TerminateInstances(request(cvm_models.TerminateInstancesRequest, InstanceIds=[ins]))
    if world.realistic:
        assert world.instance(ins).InstanceState == "TERMINATING"
    world.wait_instance(ins, None)


def test_run_instances_refusals(world):
    run = world.cvm.RunInstances
    base = {"Placement": {"Zone": ZONE}, "ImageId": IMAGE, "InstanceType": TYPE}
    cases = [
        ({"Placement": {"Zone": "ap-shanghai-2"}}, "InvalidZone.MismatchRegion"),
        ({"InstanceType": "Z9.HUGE"}, "InvalidParameterValue.InstanceTypeNotFound"),
        ({"ImageId": "img-00000000"}, "InvalidImageId.NotFound"),
        ({"ImageId": "centos"}, "InvalidImageId.Malformed"),
        ({"InstanceChargeType": "PREPAID"}, "MissingParameter"),
        ({"DataDisks": [{"DiskSize": 50, "DiskType": "CLOUD_TSSD"}]}, "InvalidParameter.DiskConfigNotSupported"),
        ({"SystemDisk": {"DiskSize": 5000}}, "InvalidParameterValue"),
        ({"DryRun": True}, "DryRunOperation"),
    ]
    before = world.cvm.DescribeInstances(request(cvm_models.DescribeInstancesRequest)).TotalCount
    for change, code in cases:
        assert code_of(run, request(cvm_models.RunInstancesRequest, **{**base, **change})) == code, change
    assert world.cvm.DescribeInstances(request(cvm_models.DescribeInstancesRequest)).TotalCount == before


def test_describe_instances_filters_and_pages(world):
    names = world.run(count=3, InstanceName="page-{R:1}")
    found = world.cvm.DescribeInstances(request(
        cvm_models.DescribeInstancesRequest,
        Filters=[{"Name": "instance-name", "Values": ["page-1", "page-3"]}])).InstanceSet
    assert sorted(i.InstanceName for i in found) == ["page-1", "page-3"]
    page = world.cvm.DescribeInstances(request(
        cvm_models.DescribeInstancesRequest, Limit=1, Offset=1,
        Filters=[{"Name": "instance-id", "Values": names}, {"Name": "zone", "Values": [ZONE]},
                 {"Name": "instance-state", "Values": ["RUNNING"]}]))
    assert page.TotalCount == 3 and [i.InstanceId for i in page.InstanceSet] == [names[1]]
    assert code_of(world.cvm.DescribeInstances, request(
        cvm_models.DescribeInstancesRequest, Filters=[{"Name": "color", "Values": ["red"]}])) == "InvalidFilter"


# --- AttachDisks / DetachDisks ----------------------------------------------------------------------
def test_attach_and_detach(world):
    ins = world.run()[0]
    disk_id = world.create()
    world.cbs.AttachDisks(request(models.AttachDisksRequest, InstanceId=ins, DiskIds=[disk_id],
                                  DeleteWithInstance=True))
    if world.realistic:
        seen = world.disk(disk_id)
        assert seen.DiskState == "ATTACHING" and seen.Attached is False  # never ATTACHED early
        assert code_of(world.cbs.AttachDisks, request(
            models.AttachDisksRequest, InstanceId=ins, DiskIds=[disk_id])) == "ResourceBusy"
    disk = world.wait_disk(disk_id, "ATTACHED")
    assert (disk.Attached, disk.InstanceId, disk.InstanceIdList, disk.LastAttachInsId,
            disk.InstanceType, disk.DeleteWithInstance) == (True, ins, [ins], ins, "CVM", True)
    listed = world.disks(Filters=[{"Name": "instance-id", "Values": [ins]},
                                  {"Name": "portable", "Values": ["TRUE"]}])
    assert [d.DiskId for d in listed] == [disk_id]
    instance = world.instance(ins)
    assert disk_id in [d.DiskId for d in instance.DataDisks]
    by_name = world.disks(Filters=[{"Name": "instance-name", "Values": [instance.InstanceName]}])
    by_ip = world.disks(Filters=[{"Name": "instance-ip-address", "Values": instance.PrivateIpAddresses}])
    assert disk_id in {d.DiskId for d in by_name} and disk_id in {d.DiskId for d in by_ip}
    world.detach(disk_id, InstanceId=ins)
    if world.realistic:
        seen = world.disk(disk_id)
        assert seen.DiskState == "DETACHING" and seen.Attached is True
        assert code_of(world.cbs.ResizeDisk, request(models.ResizeDiskRequest, DiskId=disk_id,
                                                     DiskSize=100)) == "InvalidDisk.Busy"
    disk = world.wait_disk(disk_id, "UNATTACHED")
    assert (disk.Attached, disk.InstanceId, disk.InstanceIdList, disk.LastAttachInsId) == (False, "", [], ins)


def test_attach_refusals_change_nothing(world):
    ins = world.run()[0]
    other_zone_ins = world.run(zone=OTHER_ZONE)[0]
    system, (bundled,) = world.system_and_data_disks(
        world.run(DataDisks=[{"DiskSize": 20}])[0])
    free = world.create()
    attached = world.create()
    world.attach(ins, attached)
    prepaid = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    world.cbs.TerminateDisks(request(models.TerminateDisksRequest, DiskIds=[prepaid]))  # → TORECYCLE
    recycled_ins = world.run(InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 1})[0]
    world.cvm.TerminateInstances(request(cvm_models.TerminateInstancesRequest, InstanceIds=[recycled_ins]))
    assert world.instance(recycled_ins).InstanceState == "SHUTDOWN"
    full = world.run(DataDisks=[{"DiskSize": 10}] * 20)[0]
    snapshot_before = {d.DiskId: (d.DiskState, d.InstanceIdList) for d in world.disks(Limit=100)}
    attach = world.cbs.AttachDisks
    cases = [
        ({"DiskIds": [free]}, "MissingParameter"),
        ({"InstanceId": ins, "DiskIds": []}, "MissingParameter"),
        ({"InstanceId": ins, "DiskIds": [free] * 11}, "InvalidParameterValue.LimitExceeded"),
        ({"InstanceId": ins, "DiskIds": [free, free]}, "InvalidParameterValue"),
        ({"InstanceId": ins, "DiskIds": ["disk-BAD"]}, "InvalidParameterValue"),
        ({"InstanceId": ins, "DiskIds": [free], "AttachMode": "XX"}, "InvalidParameterValue"),
        ({"InstanceId": "ins-00000000", "DiskIds": [free]}, "InvalidInstanceId.NotFound"),
        ({"InstanceId": ins, "DiskIds": [free, "disk-00000000"]}, "InvalidDiskId.NotFound"),
        ({"InstanceId": ins, "DiskIds": [system]}, "InvalidDisk.TypeError"),
        ({"InstanceId": ins, "DiskIds": [bundled]}, "InvalidDisk.NotPortable"),
        ({"InstanceId": ins, "DiskIds": [prepaid]}, "InvalidDisk.NotSupported"),
        ({"InstanceId": other_zone_ins, "DiskIds": [attached]}, "InvalidDisk.Attached"),
        ({"InstanceId": ins, "DiskIds": [attached]}, "InvalidDisk.Attached"),
        ({"InstanceId": other_zone_ins, "DiskIds": [free]}, "ZoneNotMatch"),
        ({"InstanceId": recycled_ins, "DiskIds": [free]}, "InvalidInstance.NotSupported"),
        ({"InstanceId": full, "DiskIds": [free]}, "LimitExceeded.InstanceAttachedDisk"),
    ]
    for fields, code in cases:
        assert code_of(attach, request(models.AttachDisksRequest, **fields)) == code, fields
    assert {d.DiskId: (d.DiskState, d.InstanceIdList) for d in world.disks(Limit=100)} == snapshot_before


def test_raw_parameter_errors(world):
    client = common_client(world.server)
    for params, code in [({"InstanceIdz": "ins-00000000", "DiskIds": ["disk-00000000"]}, "UnknownParameter"),
                         ({"InstanceId": "ins-00000000", "DiskIds": "disk-00000000"}, "InvalidParameter"),
                         ({"InstanceId": 5, "DiskIds": ["disk-00000000"]}, "InvalidParameter")]:
        assert code_of(client.call_json, "AttachDisks", params) == code, params


def test_detach_refusals(world):
    ins, ins2 = world.run(count=2)
    system, (bundled,) = world.system_and_data_disks(world.run(DataDisks=[{"DiskSize": 20}])[0])
    free, a, b = world.create(), world.create(), world.create()
    world.attach(ins, a)
    world.attach(ins2, b)
    shared = world.create(Shareable=True)
    world.attach(ins, shared)
    world.attach(ins2, shared)
    recycled_ins = world.run(InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 1})[0]
    held = world.create()
    world.attach(recycled_ins, held)
    world.cvm.TerminateInstances(request(cvm_models.TerminateInstancesRequest, InstanceIds=[recycled_ins]))
    detach = world.cbs.DetachDisks
    cases = [
        ({"DiskIds": [shared]}, "MissingParameter"),
        ({"DiskIds": [a] * 11}, "InvalidParameterValue.LimitExceeded"),
        ({"DiskIds": ["disk-00000000"]}, "InvalidDiskId.NotFound"),
        ({"DiskIds": [a], "InstanceId": "ins-00000000"}, "InvalidInstanceId.NotFound"),
        ({"DiskIds": [system]}, "InvalidDisk.TypeError"),
        ({"DiskIds": [bundled]}, "InvalidDisk.NotPortable"),
        ({"DiskIds": [free]}, "InvalidDisk.NotSupported"),
        ({"DiskIds": [a, b]}, "InvalidParameterValue"),
        ({"DiskIds": [a], "InstanceId": ins2}, "InvalidParameterValue"),
        ({"DiskIds": [held]}, "InvalidInstance.NotSupported"),
    ]
    for fields, code in cases:
        assert code_of(detach, request(models.DetachDisksRequest, **fields)) == code, fields
    assert world.disk(a).InstanceIdList == [ins] and world.disk(b).InstanceIdList == [ins2]


def test_shareable_disk_on_several_instances(world):
    ins, ins2 = world.run(count=2)
    shared = world.create(Shareable=True)
    world.attach(ins, shared)
    world.attach(ins2, shared)
    disk = world.disk(shared)
    assert (disk.DiskState, disk.InstanceId, sorted(disk.InstanceIdList)) == ("ATTACHED", "", sorted([ins, ins2]))
    assert code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest, InstanceId=ins,
                                                  DiskIds=[shared])) == "InvalidDisk.Attached"
    world.detach(shared, InstanceId=ins)
    disk = world.wait_disk(shared, "ATTACHED", InstanceIdList=[ins2])
    assert disk.Attached is True
    world.detach(shared, InstanceId=ins2)
    world.wait_disk(shared, "UNATTACHED", InstanceIdList=[])


def test_terminating_an_instance_releases_its_disks(world):
    ins = world.run(DataDisks=[{"DiskSize": 20}])[0]
    system, (bundled,) = world.system_and_data_disks(ins)
    goes, stays = world.create(), world.create()
    world.attach(ins, goes, DeleteWithInstance=True)
    world.attach(ins, stays)
    world.cvm.TerminateInstances(request(cvm_models.TerminateInstancesRequest, InstanceIds=[ins]))
    world.wait_instance(ins, None)
    assert world.disk(system) is None and world.disk(bundled) is None and world.disk(goes) is None
    left = world.disk(stays)
    assert (left.DiskState, left.Attached, left.InstanceIdList, left.LastAttachInsId) == ("UNATTACHED", False, [], ins)


# --- CreateDisks onto an instance ------------------------------------------------------------------
def test_create_disks_mounted_on_an_instance(world):
    ins = world.run()[0]
    disk_id = world.create(AutoMountConfiguration={"InstanceId": [ins], "MountPoint": ["/data"],
                                                   "FileSystemType": "ext4"})
    disk = world.disk(disk_id)
    assert (disk.DiskState, disk.InstanceId, disk.Portable) == ("ATTACHED", ins, True)  # first seen attached
    other = world.run(zone=OTHER_ZONE)[0]
    full = world.run(DataDisks=[{"DiskSize": 10}] * 20)[0]
    for mount, code in [([other], "ZoneNotMatch"), (["ins-00000000"], "InvalidInstanceId.NotFound"),
                        ([full], "LimitExceeded.InstanceAttachedDisk")]:
        assert code_of(world.create, wait=False, AutoMountConfiguration={"InstanceId": mount}) == code


# --- TerminateDisks ---------------------------------------------------------------------------------
def test_terminate_disks(world):
    ins = world.run()[0]
    system, _ = world.system_and_data_disks(ins)
    postpaid = world.create()
    prepaid = world.create(DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 1})
    attached = world.create()
    world.attach(ins, attached)
    terminate = world.cbs.TerminateDisks
    for ids_, code in [([system], "InvalidDisk.NotSupportRefund"), ([attached], "InvalidDisk.Attached"),
                       ([postpaid, "disk-00000000"], "InvalidDiskId.NotFound"),
                       ([postpaid] * 101, "InvalidParameterValue.LimitExceeded")]:
        assert code_of(terminate, request(models.TerminateDisksRequest, DiskIds=ids_)) == code
    assert world.disk(postpaid) is not None  # nothing of a refused batch happened
    terminate(request(models.TerminateDisksRequest, DiskIds=[postpaid, prepaid]))
    assert world.disk(postpaid) is None
    returned = world.disk(prepaid)
    assert (returned.DiskState, returned.ReturnFailCode, returned.IsReturnable) == ("TORECYCLE", 1, False)
    terminate(request(models.TerminateDisksRequest, DiskIds=[prepaid]))  # the second call destroys
    assert world.disk(prepaid) is None


# --- ModifyDiskAttributes / ResizeDisk / InitializeDisks -------------------------------------------
def test_modify_disk_attributes(world):
    ins = world.run(DataDisks=[{"DiskSize": 20}])[0]
    system, (bundled,) = world.system_and_data_disks(ins)
    disk_id = world.create()
    prepaid = world.create(DiskChargePrepaid={"Period": 1}, DiskChargeType="PREPAID")
    modify = world.cbs.ModifyDiskAttributes
    modify(request(models.ModifyDiskAttributesRequest, DiskIds=[disk_id, prepaid], DiskName="renamed"))
    assert world.disk(disk_id).DiskName == "renamed" and world.disk(prepaid).DiskName == "renamed"
    modify(request(models.ModifyDiskAttributesRequest, DiskIds=[disk_id], DeleteWithInstance=True))
    assert world.disk(disk_id).DeleteWithInstance is True
    cases = [
        ({"DiskIds": [disk_id]}, "MissingParameter"),
        ({"DiskIds": [disk_id], "Portable": False}, "InvalidParameterValue"),
        ({"DiskIds": [disk_id], "DiskName": "x" * 61}, "InvalidParameterValue"),
        ({"DiskIds": [disk_id], "ProjectId": 12345}, "InvalidParameterValue"),
        ({"DiskIds": [disk_id, prepaid], "DiskType": "CLOUD_SSD"}, "InvalidParameterValue"),
        ({"DiskIds": [disk_id], "DiskType": "CLOUD_SSD", "DiskName": "x"}, "InvalidParameterValue"),
        ({"DiskIds": [disk_id], "DiskType": "CLOUD_HSSD"}, "InvalidParameterValue"),
        ({"DiskIds": ["disk-00000000"], "DiskName": "x"}, "InvalidDiskId.NotFound"),
        ({"DiskIds": [disk_id] * 101, "DiskName": "x"}, "InvalidParameterValue.LimitExceeded"),
        ({"DiskIds": [prepaid], "DeleteWithInstance": True}, "InvalidDisk.NotSupported"),
        ({"DiskIds": [system], "DeleteWithInstance": True}, "InvalidDisk.NotSupported"),
        ({"DiskIds": [bundled], "ProjectId": 0}, "InvalidDisk.NotSupported"),
        ({"DiskIds": [disk_id], "DiskType": "CLOUD_PREMIUM"}, "InvalidDisk.NotSupported"),
        ({"DiskIds": [disk_id], "BurstPerformanceOperation": "CREATE"}, "InvalidDisk.NotSupported"),
    ]
    for fields, code in cases:
        assert code_of(modify, request(models.ModifyDiskAttributesRequest, **fields)) == code, fields
    # a bundled data disk can become elastic, and then leaves its instance like any other
    modify(request(models.ModifyDiskAttributesRequest, DiskIds=[bundled], Portable=True))
    assert world.disk(bundled).Portable is True
    world.detach(bundled)
    world.wait_disk(bundled, "UNATTACHED")


def test_disk_type_change(world):
    disk_id = world.create(DiskSize=100)
    world.cbs.ModifyDiskAttributes(request(models.ModifyDiskAttributesRequest, DiskIds=[disk_id],
                                           DiskType="CLOUD_SSD"))
    if world.realistic:
        disk = world.disk(disk_id)
        assert (disk.Migrating, disk.DiskType, disk.DiskState) == (True, "CLOUD_PREMIUM", "UNATTACHED")
        assert 0 <= disk.MigratePercent < 100
        ins = world.run()[0]
        assert code_of(world.cbs.AttachDisks, request(models.AttachDisksRequest, InstanceId=ins,
                                                      DiskIds=[disk_id])) == "ResourceBusy"
    disk = world.wait_disk(disk_id, "UNATTACHED", DiskType="CLOUD_SSD")
    assert (disk.Migrating, disk.MigratePercent) == (False, 0)
    elsewhere = world.create(zone=PREMIUM_ONLY_ZONE)
    assert code_of(world.cbs.ModifyDiskAttributes, request(
        models.ModifyDiskAttributesRequest, DiskIds=[elsewhere],
        DiskType="CLOUD_SSD")) == "InvalidParameter.DiskConfigNotSupported"


def test_resize_disk(world):
    disk_id = world.create(DiskSize=50)
    resize = world.cbs.ResizeDisk
    for fields, code in [({"DiskSize": 100}, "MissingParameter"),
                         ({"DiskId": disk_id, "DiskSize": 50}, "InvalidParameterValue"),
                         ({"DiskId": disk_id, "DiskSize": 55}, "InvalidParameterValue"),
                         ({"DiskId": disk_id, "DiskSize": 40000}, "InvalidParameter.DiskConfigNotSupported"),
                         ({"DiskId": "disk-00000000", "DiskSize": 100}, "InvalidDiskId.NotFound")]:
        assert code_of(resize, request(models.ResizeDiskRequest, **fields)) == code, fields
    resize(request(models.ResizeDiskRequest, DiskId=disk_id, DiskSize=100))
    if world.realistic:
        disk = world.disk(disk_id)
        assert (disk.DiskState, disk.DiskSize) == ("EXPANDING", 50)  # the size changes at the end
        assert code_of(resize, request(models.ResizeDiskRequest, DiskId=disk_id,
                                       DiskSize=200)) == "InvalidDisk.Busy"
    world.wait_disk(disk_id, "UNATTACHED", DiskSize=100)
    ins = world.run()[0]
    system, _ = world.system_and_data_disks(ins)
    assert code_of(resize, request(models.ResizeDiskRequest, DiskId=system,
                                   DiskSize=100)) == "InvalidDisk.NotSupported"


def test_initialize_disks(world):
    ins = world.run()[0]
    attached, free = world.create(), world.create()
    shared = world.create(Shareable=True)
    world.attach(ins, attached)
    initialize = world.cbs.InitializeDisks
    for disk_ids, code in [([attached], "InvalidDisk.Attached"), ([shared], "InvalidDisk.NotSupported"),
                           ([free] * 21, "InvalidParameterValue.LimitExceeded"),
                           (["disk-00000000"], "InvalidDiskId.NotFound"), ([], "MissingParameter")]:
        assert code_of(initialize, request(models.InitializeDisksRequest, DiskIds=disk_ids)) == code
    initialize(request(models.InitializeDisksRequest, DiskIds=[free]))
    assert world.disk(free).DiskState == "UNATTACHED"


# --- configuration, stock and counts ---------------------------------------------------------------
def test_describe_disk_config_quota(world):
    quota = world.cbs.DescribeDiskConfigQuota
    rows = quota(request(models.DescribeDiskConfigQuotaRequest, InquiryType="INQUIRY_CBS_CONFIG",
                         Zones=[ZONE], DiskChargeType="POSTPAID_BY_HOUR")).DiskConfigSet
    by_type = {r.DiskType: r for r in rows}
    assert set(by_type) == {"CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_SSD", "CLOUD_HSSD", "CLOUD_TSSD"}
    assert by_type["CLOUD_TSSD"].Available is False and by_type["CLOUD_PREMIUM"].Available is True
    assert (by_type["CLOUD_PREMIUM"].MinDiskSize, by_type["CLOUD_PREMIUM"].StepSize) == (10, 10)
    assert by_type["CLOUD_HSSD"].ExtraPerformanceRange[0] == 0 and by_type["CLOUD_SSD"].ExtraPerformanceRange is None
    cvm_rows = quota(request(models.DescribeDiskConfigQuotaRequest, InquiryType="INQUIRY_CVM_CONFIG",
                             Zones=[ZONE], InstanceFamilies=["S6", "S5"], DiskTypes=["CLOUD_TSSD"],
                             DiskUsage="DATA_DISK", DiskChargeType="PREPAID")).DiskConfigSet
    assert {(r.InstanceFamily, r.Available) for r in cvm_rows} == {("S6", True), ("S5", False)}
    premium_only = quota(request(models.DescribeDiskConfigQuotaRequest, InquiryType="INQUIRY_CBS_CONFIG",
                                 Zones=[PREMIUM_ONLY_ZONE])).DiskConfigSet
    assert {r.DiskType for r in premium_only} == {"CLOUD_PREMIUM"}
    for fields, code in [({}, "MissingParameter"), ({"InquiryType": "INQUIRY_X"}, "InvalidParameterValue"),
                         ({"InquiryType": "INQUIRY_CBS_CONFIG", "Zones": ["ap-shanghai-2"]}, "InvalidParameterValue")]:
        assert code_of(quota, request(models.DescribeDiskConfigQuotaRequest, **fields)) == code, fields


def test_zone_stock_runs_out(world):
    first = world.create(zone=STOCKED_ZONE, DiskType="CLOUD_SSD", DiskSize=60)
    assert first
    assert code_of(world.create, zone=STOCKED_ZONE, wait=False, DiskType="CLOUD_SSD",
                   DiskSize=50) == "ResourceInsufficient"
    assert code_of(world.cbs.CreateDisks, request(
        models.CreateDisksRequest, Placement={"Zone": PREMIUM_ONLY_ZONE}, DiskType="CLOUD_SSD",
        DiskChargeType="POSTPAID_BY_HOUR", DiskSize=50)) == "InvalidParameter.DiskConfigNotSupported"


def test_describe_instances_disk_num(world):
    ins = world.run(DataDisks=[{"DiskSize": 20}, {"DiskSize": 20}])[0]
    extra = world.create()
    world.attach(ins, extra)
    detail = world.cbs.DescribeInstancesDiskNum(request(
        models.DescribeInstancesDiskNumRequest, InstanceIds=[ins])).AttachDetail
    assert [(d.InstanceId, d.AttachedDiskCount, d.MaxAttachCount) for d in detail] == [(ins, 3, 20)]
    for ids_, code in [(["ins-00000000"], "InvalidInstanceId.NotFound"), (["nope"], "InvalidParameterValue"),
                       ([], "MissingParameter")]:
        assert code_of(world.cbs.DescribeInstancesDiskNum, request(
            models.DescribeInstancesDiskNumRequest, InstanceIds=ids_)) == code


def test_describe_disks_instance_filters(world):
    ins = world.run(DataDisks=[{"DiskSize": 20}])[0]
    own = world.disks(Filters=[{"Name": "instance-id", "Values": [ins]},
                               {"Name": "portable", "Values": ["false"]}])
    assert sorted(d.DiskUsage for d in own) == ["DATA_DISK", "SYSTEM_DISK"]
    system = world.disks(Filters=[{"Name": "instance-id", "Values": [ins]},
                                  {"Name": "disk-usage", "Values": ["SYSTEM_DISK"]}])
    assert len(system) == 1
    counted = world.cbs.DescribeDisks(request(models.DescribeDisksRequest, Limit=1, Filters=[
        {"Name": "instance-id", "Values": [ins, "ins-00000000"]}]))
    assert counted.TotalCount == 2 and len(counted.DiskSet) == 1
    assert code_of(world.disks, Filters=[{"Name": "instance", "Values": [ins]}]) == "InvalidFilter"


def test_run_instances_client_token(world):
    first = world.run(wait=False, ClientToken="deploy-42")
    assert world.run(wait=False, ClientToken="deploy-42") == first  # a retry creates nothing
    assert code_of(world.run, wait=False, ClientToken="x" * 65) == "InvalidParameterValue"
    assert code_of(world.run, wait=False, ClientToken="déploiement") == "InvalidParameterValue"
