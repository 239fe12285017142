"""A model-based test of the disk and instance lifecycle: Hypothesis drives one real cbslocal
server (instant timing) through the official CBS and CVM SDKs with random, seeded sequences of
RunInstances, Stop/Start/TerminateInstances, CreateDisks, AttachDisks, DetachDisks, TerminateDisks,
ModifyDiskAttributes and ResizeDisk — valid and invalid ones. A small Python model predicts the
outcome of every call (success, or the exact error code: cbs-behavior.md §3.3-3.7, §5.1, §8.1), and
after every step DescribeDisks, DescribeInstances and DescribeInstancesDiskNum must show exactly the
model's world. A refused call changes nothing in the model, so the invariant also proves that it
changed nothing on the server.

Each example gets a region of its own (rotating through the regions with at least two zones) that
is emptied before the example starts and after it ends.
"""

from __future__ import annotations

import importlib.resources
import itertools
import json
import tomllib
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule,
                                 run_state_machine_as_test)
from tencentcloud.cbs.v20170312 import cbs_client as cbs_module
from tencentcloud.cbs.v20170312 import models as cbs_models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import cvm_client as cvm_module
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import Server, client_profile, credential

IMAGE = "img-pmqg1cw7"
INSTANCE_TYPE = "S5.MEDIUM4"
MAX_ATTACH = 20  # data disks per instance (DescribeInstancesDiskNum MaxAttachCount, §8.2)
MAX_DISK_IDS = 10  # DiskIds per AttachDisks / DetachDisks
NAME_MAX_BYTES = 60
MAX_SIZE = 32000  # CLOUD_PREMIUM
UNNAMED = "未命名"  # the SDK's default language is zh-CN
NEVER_DISK = "disk-zz00zz00"  # well-formed, never created (IDs are random: collision ~36**-8)
NEVER_INSTANCE = "ins-zz00zz00"

SYSTEM, DATA = "SYSTEM_DISK", "DATA_DISK"
POSTPAID, PREPAID = "POSTPAID_BY_HOUR", "PREPAID"
UNATTACHED, ATTACHED, TORECYCLE = "UNATTACHED", "ATTACHED", "TORECYCLE"
RUNNING, STOPPED, SHUTDOWN = "RUNNING", "STOPPED", "SHUTDOWN"

SETTINGS = settings(max_examples=60, stateful_step_count=50, derandomize=True, deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow],
                    print_blob=False,
                    # No shrinking: every attempt replays against the server, and Hypothesis would
                    # spend minutes on it. A failure prints its steps and the last calls instead.
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])


def _regions() -> list[tuple[str, list[str]]]:
    """The regions of the packaged topology with at least two zones that sell disks, with two of
    them (always two, so that what Hypothesis draws does not depend on the region)."""
    data = tomllib.loads((importlib.resources.files("cbslocal") / "defaults.toml").read_text())
    found = []
    for region, spec in sorted(data["regions"].items()):
        zones = [z for z in spec["zones"] if z not in spec.get("sold_out_zones", ())]
        if len(zones) >= 2:
            found.append((region, zones[:2]))
    return found


REGIONS = _regions()


def sdk_request(model, **fields):
    req = model()
    req.from_json_string(json.dumps(fields))
    return req


# --- the model ------------------------------------------------------------------------------------
@dataclass
class Disk:
    disk_id: str
    zone: str
    usage: str
    charge: str
    size: int
    name: str
    portable: bool
    shareable: bool = False
    delete_with_instance: bool = False
    recycled: bool = False  # TORECYCLE (returned prepaid disk)
    attached: list[str] = field(default_factory=list)  # instance IDs, in attach order
    last_attached: str | None = None  # LastAttachInsId: null until its first attach

    @property
    def state(self) -> str:
        return TORECYCLE if self.recycled else ATTACHED if self.attached else UNATTACHED


@dataclass
class Instance:
    instance_id: str
    zone: str
    charge: str
    name: str
    state: str = RUNNING


class Refused(Exception):
    """The model's prediction: the call fails with this code."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- the machine ---------------------------------------------------------------------------------
class LifecycleMachine(RuleBasedStateMachine):
    server: Server  # set by the test before the run
    region_cycle = itertools.cycle(REGIONS)

    def __init__(self):
        super().__init__()
        self.region, self.zones = next(self.region_cycle)
        self.cbs = cbs_module.CbsClient(credential(), self.region, client_profile(self.server))
        self.cvm = cvm_module.CvmClient(credential(), self.region, client_profile(self.server))
        self.disks: dict[str, Disk] = {}  # in creation order (dicts keep it)
        self.instances: dict[str, Instance] = {}
        self.gone_disks: list[str] = []
        self.gone_instances: list[str] = []
        self.names = itertools.count()
        self.log: list[str] = []
        self.empty_region()

    def teardown(self):
        # Whatever the steps did, the store keeps every invariant (the consistency checker).
        violations = self.server.control("GET", "/check").json()["violations"]
        assert violations == [], f"{violations}{self.history()}"
        self.empty_region()

    # --- plumbing ---------------------------------------------------------------------------------
    def empty_region(self) -> None:
        """Terminate every instance and disk of the region: prepaid ones take two calls, and an
        elastic disk can only go once its instance is gone."""
        for _ in range(5):
            instances = self.list_instances()
            disks = self.list_disks()
            if not instances and not disks:
                return
            for instance in instances:
                self._quietly(self.cvm.TerminateInstances, cvm_models.TerminateInstancesRequest,
                              InstanceIds=[instance.InstanceId])
            for disk in disks:
                if disk.Portable and not disk.Attached:
                    self._quietly(self.cbs.TerminateDisks, cbs_models.TerminateDisksRequest,
                                  DiskIds=[disk.DiskId])
        raise AssertionError(f"could not empty {self.region}: {self.list_instances()} "
                             f"{self.list_disks()}")

    @staticmethod
    def _quietly(action, model, **fields) -> None:
        try:
            action(sdk_request(model, **fields))
        except TencentCloudSDKException:
            pass  # the next round sees what is left

    def list_disks(self) -> list:
        found, offset = [], 0
        while True:
            page = self.cbs.DescribeDisks(sdk_request(cbs_models.DescribeDisksRequest,
                                                      Limit=100, Offset=offset))
            found.extend(page.DiskSet)
            offset += len(page.DiskSet)
            if not page.DiskSet or offset >= page.TotalCount:
                assert offset == page.TotalCount, (offset, page.TotalCount)
                return found

    def list_instances(self) -> list:
        found, offset = [], 0
        while True:
            page = self.cvm.DescribeInstances(sdk_request(cvm_models.DescribeInstancesRequest,
                                                          Limit=100, Offset=offset))
            found.extend(page.InstanceSet)
            offset += len(page.InstanceSet)
            if not page.InstanceSet or offset >= page.TotalCount:
                assert offset == page.TotalCount, (offset, page.TotalCount)
                return found

    def call(self, client, action: str, model, fields: dict, predict):
        """Send the call; `predict()` applies it to the model and returns, or raises Refused with
        the code the server must answer (leaving the model as it was)."""
        try:
            predict()
            expected = None
        except Refused as refusal:
            expected = refusal.code
        self.log.append(f"{action} {json.dumps(fields)} -> {expected or 'ok'}")
        try:
            response = getattr(client, action)(sdk_request(model, **fields))
        except TencentCloudSDKException as failure:
            assert failure.code == expected, (
                f"{action} {json.dumps(fields)}: the model expects {expected or 'success'}, the "
                f"server answered {failure.code}: {failure.message}{self.history()}")
            return None
        assert expected is None, (f"{action} {json.dumps(fields)}: the model expects {expected}, "
                                  f"the server accepted it{self.history()}")
        return response

    def draw(self, data, values, label: str | None = None):
        return data.draw(st.sampled_from(list(values)), label=label)

    def history(self) -> str:
        return "\nthe last calls of this example:\n  " + "\n  ".join(self.log[-12:])

    def data_count(self, instance_id: str) -> int:
        return sum(1 for d in self.disks.values() if d.usage == DATA and instance_id in d.attached)

    def new_name(self) -> str:
        return f"m{next(self.names)}"

    # --- CVM --------------------------------------------------------------------------------------
    @precondition(lambda self: len(self.instances) < 6)
    @rule(data=st.data())
    def run_instances(self, data):
        zone = self.zones[data.draw(st.integers(0, 1), label="zone")]
        count = data.draw(st.sampled_from([1, 1, 1, 2]), label="count")
        prepaid = data.draw(st.booleans(), label="prepaid") and data.draw(st.booleans())
        sizes = data.draw(st.sampled_from([[], [], [20], [30, 40], [10] * 18]), label="data disks")
        bundled = []
        for position, size in enumerate(sizes):
            spec = {"DiskSize": size, "DiskType": "CLOUD_PREMIUM"}
            if position < 2 and data.draw(st.booleans(), label="named"):
                spec["DiskName"] = f"bundled-{position}"
            if position < 2 and data.draw(st.booleans(), label="keep"):
                spec["DeleteWithInstance"] = False
            bundled.append(spec)
        name = self.new_name()
        fields = {"Placement": {"Zone": zone}, "ImageId": IMAGE, "InstanceType": INSTANCE_TYPE,
                  "InstanceName": name, "InstanceCount": count, "DataDisks": bundled}
        if prepaid:
            fields.update(InstanceChargeType=PREPAID, InstanceChargePrepaid={"Period": 1})
        answer = self.call(self.cvm, "RunInstances", cvm_models.RunInstancesRequest, fields,
                           lambda: None)
        assert len(answer.InstanceIdSet) == count
        listed = {i.InstanceId: i for i in self.cvm.DescribeInstances(sdk_request(
            cvm_models.DescribeInstancesRequest, InstanceIds=answer.InstanceIdSet)).InstanceSet}
        charge = PREPAID if prepaid else POSTPAID
        for position, instance_id in enumerate(answer.InstanceIdSet):
            own_name = f"{name}{position + 1}" if count > 1 else name
            self.instances[instance_id] = Instance(instance_id, zone, charge, own_name)
            shown = listed[instance_id]
            self.disks[shown.SystemDisk.DiskId] = Disk(
                shown.SystemDisk.DiskId, zone, SYSTEM, charge, 50, f"{own_name}_SYSTEM_DISK",
                portable=False, delete_with_instance=True, attached=[instance_id],
                last_attached=instance_id)
            assert [d.DiskSize for d in shown.DataDisks] == sizes
            for spec, disk in zip(bundled, shown.DataDisks):
                self.disks[disk.DiskId] = Disk(
                    disk.DiskId, zone, DATA, charge, spec["DiskSize"],
                    spec.get("DiskName", f"{own_name}_DATA_DISK"), portable=False,
                    delete_with_instance=spec.get("DeleteWithInstance", True),
                    attached=[instance_id], last_attached=instance_id)

    def pick_instances(self, data) -> list[str]:
        known = list(self.instances) + self.gone_instances[-2:]
        if not self.instances or data.draw(st.integers(0, 9), label="missing instance") == 9:
            known.append(NEVER_INSTANCE)
        first = self.draw(data, known, "instance")
        if data.draw(st.integers(0, 4), label="two instances") == 4:
            second = self.draw(data, known, "second instance")
            if second != first:
                return [first, second]
        return [first]

    def _check_instances(self, instance_ids: list[str], allowed: tuple[str, ...]) -> list[Instance]:
        for instance_id in instance_ids:
            if instance_id not in self.instances:
                raise Refused("InvalidInstanceId.NotFound")
        for instance_id in instance_ids:
            state = self.instances[instance_id].state
            if state not in allowed:
                raise Refused("UnsupportedOperation.InstanceState" + state.title())
        return [self.instances[i] for i in instance_ids]

    @precondition(lambda self: self.instances or self.gone_instances)
    @rule(data=st.data())
    def stop_instances(self, data):
        instance_ids = self.pick_instances(data)

        def predict():
            for instance in self._check_instances(instance_ids, (RUNNING,)):
                instance.state = STOPPED
        self.call(self.cvm, "StopInstances", cvm_models.StopInstancesRequest,
                  {"InstanceIds": instance_ids}, predict)

    @precondition(lambda self: self.instances or self.gone_instances)
    @rule(data=st.data())
    def start_instances(self, data):
        instance_ids = self.pick_instances(data)

        def predict():
            for instance in self._check_instances(instance_ids, (STOPPED,)):
                instance.state = RUNNING
        self.call(self.cvm, "StartInstances", cvm_models.StartInstancesRequest,
                  {"InstanceIds": instance_ids}, predict)

    @precondition(lambda self: self.instances or self.gone_instances)
    @rule(data=st.data())
    def terminate_instances(self, data):
        instance_ids = self.pick_instances(data)

        def predict():
            for instance in self._check_instances(instance_ids, (RUNNING, STOPPED, SHUTDOWN)):
                if instance.charge == PREPAID and instance.state != SHUTDOWN:
                    instance.state = SHUTDOWN  # the recycle bin; a second call destroys it
                else:
                    self._destroy_instance(instance.instance_id)
        self.call(self.cvm, "TerminateInstances", cvm_models.TerminateInstancesRequest,
                  {"InstanceIds": instance_ids}, predict)

    def _destroy_instance(self, instance_id: str) -> None:
        """§5.1/§8.1: its own disks go with it, so do elastic disks set to go with it (and on no
        other instance); every other disk is detached from it."""
        for disk in list(self.disks.values()):
            if instance_id not in disk.attached:
                continue
            if not disk.portable or (disk.delete_with_instance and disk.attached == [instance_id]):
                self._destroy_disk(disk.disk_id)
            else:
                disk.attached.remove(instance_id)
        del self.instances[instance_id]
        self.gone_instances.append(instance_id)

    def _destroy_disk(self, disk_id: str) -> None:
        del self.disks[disk_id]
        self.gone_disks.append(disk_id)

    # --- CreateDisks ------------------------------------------------------------------------------
    @precondition(lambda self: sum(d.portable for d in self.disks.values()) < 14)
    @rule(data=st.data())
    def create_disks(self, data):
        zone = self.zones[data.draw(st.integers(0, 1), label="zone")]
        size = data.draw(st.integers(1, 10), label="size") * 10
        count = data.draw(st.sampled_from([1, 1, 1, 2]), label="count")
        fields = {"Placement": {"Zone": zone}, "DiskType": "CLOUD_PREMIUM", "DiskSize": size,
                  "DiskChargeType": POSTPAID, "DiskCount": count}
        shareable = data.draw(st.integers(0, 3), label="shareable") == 0
        if shareable:
            fields["Shareable"] = True
        prepaid = data.draw(st.integers(0, 3), label="prepaid") == 0
        if prepaid:
            fields.update(DiskChargeType=PREPAID, DiskChargePrepaid={"Period": 1})
        name = None
        if data.draw(st.booleans(), label="named"):
            name = fields["DiskName"] = self.new_name()
        answer = self.call(self.cbs, "CreateDisks", cbs_models.CreateDisksRequest, fields,
                           lambda: None)
        assert len(answer.DiskIdSet) == count
        for disk_id in answer.DiskIdSet:
            self.disks[disk_id] = Disk(disk_id, zone, DATA, PREPAID if prepaid else POSTPAID, size,
                                       name if name is not None else UNNAMED, portable=True,
                                       shareable=shareable)

    # --- AttachDisks ------------------------------------------------------------------------------
    def _attach(self, instance_id: str, disk_ids: list[str], delete_with_instance: bool | None):
        fields = {"InstanceId": instance_id, "DiskIds": disk_ids}
        if delete_with_instance is not None:
            fields["DeleteWithInstance"] = delete_with_instance

        def predict():
            if len(disk_ids) > MAX_DISK_IDS:
                raise Refused("InvalidParameterValue.LimitExceeded")
            if len(set(disk_ids)) != len(disk_ids):
                raise Refused("InvalidParameterValue")
            instance = self.instances.get(instance_id)
            if instance is None:
                raise Refused("InvalidInstanceId.NotFound")
            if any(d not in self.disks for d in disk_ids):
                raise Refused("InvalidDiskId.NotFound")
            targets = [self.disks[d] for d in disk_ids]
            checks = (
                (lambda d: d.usage == SYSTEM, "InvalidDisk.TypeError"),
                (lambda d: not d.portable, "InvalidDisk.NotPortable"),
                (lambda d: d.recycled, "InvalidDisk.NotSupported"),
                (lambda d: d.attached and (not d.shareable or instance_id in d.attached),
                 "InvalidDisk.Attached"),
                (lambda d: d.zone != instance.zone, "ZoneNotMatch"),
            )
            for failing, code in checks:
                if any(failing(d) for d in targets):
                    raise Refused(code)
            if instance.state not in (RUNNING, STOPPED):
                raise Refused("InvalidInstance.NotSupported")
            if self.data_count(instance_id) + len(targets) > MAX_ATTACH:
                raise Refused("LimitExceeded.InstanceAttachedDisk")
            for disk in targets:
                disk.attached.append(instance_id)
                disk.last_attached = instance_id
                if delete_with_instance is not None and disk.charge == POSTPAID:
                    disk.delete_with_instance = delete_with_instance
        self.call(self.cbs, "AttachDisks", cbs_models.AttachDisksRequest, fields, predict)

    def _delete_with_instance(self, data, disk_ids: list[str]) -> bool | None:
        # Only for non-shareable disks: what a partial detach of a shareable disk does to the flag
        # is not specified.
        if any(self.disks[d].shareable for d in disk_ids if d in self.disks):
            return None
        return data.draw(st.sampled_from([None, None, True, False]), label="DeleteWithInstance")

    @precondition(lambda self: self.instances and any(d.portable for d in self.disks.values()))
    @rule(data=st.data())
    def attach_candidates(self, data):
        """Mostly valid: free elastic disks of the instance's zone (or as many as make one
        instance exceed its limit)."""
        def free_for(instance):
            return [d.disk_id for d in self.disks.values() if d.portable and not d.recycled
                    and d.zone == instance.zone and instance.instance_id not in d.attached
                    and (not d.attached or d.shareable)]
        instances = list(self.instances.values())
        how = data.draw(st.integers(0, 9), label="how")
        full = [i for i in instances if self.data_count(i.instance_id) >= MAX_ATTACH - 2
                and free_for(i)]
        served = [i for i in instances if free_for(i)]
        if how >= 7 and full:
            instances = full
        elif how >= 2 and served:
            instances = served
        instance = self.draw(data, instances, "instance")
        free = free_for(instance) or [d.disk_id for d in self.disks.values() if d.portable]
        disk_ids = data.draw(st.lists(st.sampled_from(free), min_size=1, max_size=3, unique=True),
                             label="disks")
        self._attach(instance.instance_id, disk_ids, self._delete_with_instance(data, disk_ids))

    @precondition(lambda self: self.disks)
    @rule(data=st.data())
    def attach_anything(self, data):
        """Anything: system and bundled disks, other zones, attached or recycled disks, gone or
        unknown instances and disks, duplicates, too many IDs."""
        instance_id = self.pick_instances(data)[0]
        pool = list(self.disks) + self.gone_disks[-2:] + [NEVER_DISK]
        how = data.draw(st.integers(0, 9), label="how")
        if how == 9:
            disk_ids = [self.draw(data, pool, "disk")] * 2
        elif how == 8:
            disk_ids = (list(self.disks) + [f"disk-zz{n:06d}" for n in range(11)])[:11]
        else:
            disk_ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3,
                                          unique=True), label="disks")
        self._attach(instance_id, disk_ids, None)

    # --- DetachDisks ------------------------------------------------------------------------------
    def _detach(self, disk_ids: list[str], instance_id: str | None):
        fields = {"DiskIds": disk_ids}
        if instance_id is not None:
            fields["InstanceId"] = instance_id

        def predict():
            if len(disk_ids) > MAX_DISK_IDS:
                raise Refused("InvalidParameterValue.LimitExceeded")
            if len(set(disk_ids)) != len(disk_ids):
                raise Refused("InvalidParameterValue")
            if any(d not in self.disks for d in disk_ids):
                raise Refused("InvalidDiskId.NotFound")
            targets = [self.disks[d] for d in disk_ids]
            if instance_id is None and any(d.shareable for d in targets):
                raise Refused("MissingParameter")
            if instance_id is not None and instance_id not in self.instances:
                raise Refused("InvalidInstanceId.NotFound")
            checks = (
                (lambda d: d.usage == SYSTEM, "InvalidDisk.TypeError"),
                (lambda d: not d.portable, "InvalidDisk.NotPortable"),
                (lambda d: d.recycled or not d.attached, "InvalidDisk.NotSupported"),
            )
            for failing, code in checks:
                if any(failing(d) for d in targets):
                    raise Refused(code)
            if instance_id is not None and any(instance_id not in d.attached for d in targets):
                raise Refused("InvalidParameterValue")
            hosts = {instance_id if instance_id is not None else d.attached[0] for d in targets}
            if len(hosts) > 1:
                raise Refused("InvalidParameterValue")
            host = hosts.pop()
            if self.instances[host].state not in (RUNNING, STOPPED):
                raise Refused("InvalidInstance.NotSupported")
            for disk in targets:
                disk.attached.remove(host)
                if not disk.attached:
                    disk.delete_with_instance = False  # §3.4 effects: DeleteWithInstance=false
        self.call(self.cbs, "DetachDisks", cbs_models.DetachDisksRequest, fields, predict)

    @precondition(lambda self: any(d.portable and d.attached for d in self.disks.values()))
    @rule(data=st.data())
    def detach_candidates(self, data):
        """Mostly valid: elastic disks attached to one instance."""
        disk = self.draw(data, [d for d in self.disks.values() if d.portable and d.attached],
                         "disk")
        host = self.draw(data, disk.attached, "host")
        same = [d.disk_id for d in self.disks.values()
                if d.portable and d.attached and host in d.attached and d is not disk]
        extra = data.draw(st.lists(st.sampled_from(same), max_size=2, unique=True),
                          label="more disks") if same else []
        named = disk.shareable or data.draw(st.booleans(), label="named")
        self._detach([disk.disk_id] + extra, host if named else None)

    @precondition(lambda self: self.disks)
    @rule(data=st.data())
    def detach_anything(self, data):
        pool = list(self.disks) + self.gone_disks[-2:] + [NEVER_DISK]
        how = data.draw(st.integers(0, 9), label="how")
        if how == 9:
            disk_ids = [self.draw(data, pool, "disk")] * 2
        elif how == 8:
            disk_ids = (list(self.disks) + [f"disk-zz{n:06d}" for n in range(11)])[:11]
        else:
            disk_ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3,
                                          unique=True), label="disks")
        instance_id = self.pick_instances(data)[0] if data.draw(st.booleans()) else None
        self._detach(disk_ids, instance_id)

    # --- TerminateDisks ---------------------------------------------------------------------------
    @precondition(lambda self: self.disks)
    @rule(data=st.data())
    def terminate_disks(self, data):
        pool = list(self.disks) + self.gone_disks[-2:] + [NEVER_DISK]
        elastic = [d.disk_id for d in self.disks.values() if d.portable]
        if elastic and data.draw(st.booleans(), label="elastic only"):
            pool = elastic
        disk_ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True),
                             label="disks")

        def predict():
            if any(d not in self.disks for d in disk_ids):
                raise Refused("InvalidDiskId.NotFound")
            targets = [self.disks[d] for d in disk_ids]
            if any(d.usage == SYSTEM or not d.portable for d in targets):
                raise Refused("InvalidDisk.NotSupportRefund")
            live = [d for d in targets if not d.recycled]
            if any(d.attached for d in live):
                raise Refused("InvalidDisk.Attached")
            for disk in targets:
                if disk.charge == PREPAID and not disk.recycled:
                    disk.recycled = True  # first call: the recycle bin
                else:
                    self._destroy_disk(disk.disk_id)
        self.call(self.cbs, "TerminateDisks", cbs_models.TerminateDisksRequest,
                  {"DiskIds": disk_ids}, predict)

    # --- ModifyDiskAttributes ---------------------------------------------------------------------
    @precondition(lambda self: self.disks)
    @rule(data=st.data())
    def modify_disk_attributes(self, data):
        pool = list(self.disks) + self.gone_disks[-1:]
        bundled = [d.disk_id for d in self.disks.values() if d.usage == DATA and not d.portable]
        if bundled and data.draw(st.booleans(), label="bundled"):
            pool = bundled
        disk_ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True),
                             label="disks")
        fields = {"DiskIds": disk_ids}
        name = data.draw(st.sampled_from([None, "short", "名字", "x" * 61, "é" * 30]),
                         label="DiskName")
        if name is not None:
            fields["DiskName"] = name
        portable = data.draw(st.sampled_from([None, True, True, False]), label="Portable")
        if portable is not None:
            fields["Portable"] = portable

        def predict():
            if name is None and portable is None:
                raise Refused("MissingParameter")
            if any(d not in self.disks for d in disk_ids):
                raise Refused("InvalidDiskId.NotFound")
            if portable is False or (name is not None and len(name.encode()) > NAME_MAX_BYTES):
                raise Refused("InvalidParameterValue")
            targets = [self.disks[d] for d in disk_ids]
            for disk in targets:
                if disk.recycled or (portable and disk.usage == SYSTEM):
                    raise Refused("InvalidDisk.NotSupported")
            for disk in targets:
                if name is not None:
                    disk.name = name
                if portable:
                    disk.portable = True
        self.call(self.cbs, "ModifyDiskAttributes", cbs_models.ModifyDiskAttributesRequest,
                  fields, predict)

    # --- ResizeDisk -------------------------------------------------------------------------------
    @precondition(lambda self: self.disks)
    @rule(data=st.data())
    def resize_disk(self, data):
        pool = list(self.disks) + self.gone_disks[-1:]
        disk_id = self.draw(data, pool, "disk")
        current = self.disks[disk_id].size if disk_id in self.disks else 50
        smaller = current - 10 if current > 10 else current
        size = data.draw(st.sampled_from([current + 10, current + 10, current + 50, current,
                                          smaller, current + 5, MAX_SIZE + 10]), label="size")

        def predict():
            if disk_id not in self.disks:
                raise Refused("InvalidDiskId.NotFound")
            disk = self.disks[disk_id]
            if disk.usage == SYSTEM or not disk.portable or disk.recycled:
                raise Refused("InvalidDisk.NotSupported")
            if size <= disk.size or size % 10:
                raise Refused("InvalidParameterValue")
            if size > MAX_SIZE:
                raise Refused("InvalidParameter.DiskConfigNotSupported")
            disk.size = size
        self.call(self.cbs, "ResizeDisk", cbs_models.ResizeDiskRequest,
                  {"DiskId": disk_id, "DiskSize": size}, predict)

    # --- the invariant ----------------------------------------------------------------------------
    @invariant()
    def server_matches_the_model(self):
        listed = self.list_disks()
        shown = {d.DiskId: d for d in listed}
        assert len(shown) == len(listed), "DescribeDisks listed a disk twice"
        assert set(shown) == set(self.disks), (
            f"disks only on the server: {sorted(set(shown) - set(self.disks))}, only in the model: "
            f"{sorted(set(self.disks) - set(shown))}{self.history()}")
        for disk_id, disk in self.disks.items():
            got = shown[disk_id]
            expected = {
                "DiskState": disk.state, "InstanceIdList": sorted(disk.attached),
                "Attached": bool(disk.attached), "DiskSize": disk.size, "DiskName": disk.name,
                "Portable": disk.portable, "DiskUsage": disk.usage, "Shareable": disk.shareable,
                "DiskChargeType": disk.charge, "Zone": disk.zone,
                "InstanceId": disk.attached[0] if disk.attached and not disk.shareable else "",
                "DeleteWithInstance": disk.delete_with_instance,
                # §4.1: the last instance, kept after a detach; InstanceType CVM once attached.
                "LastAttachInsId": disk.last_attached,
                "InstanceType": "CVM" if disk.last_attached else "",
            }
            actual = {
                "DiskState": got.DiskState, "InstanceIdList": sorted(got.InstanceIdList),
                "Attached": got.Attached, "DiskSize": got.DiskSize, "DiskName": got.DiskName,
                "Portable": got.Portable, "DiskUsage": got.DiskUsage, "Shareable": got.Shareable,
                "DiskChargeType": got.DiskChargeType, "Zone": got.Placement.Zone,
                "InstanceId": got.InstanceId, "DeleteWithInstance": got.DeleteWithInstance,
                "LastAttachInsId": got.LastAttachInsId, "InstanceType": got.InstanceType,
            }
            assert actual == expected, (f"{disk_id}: server {actual} != model {expected}"
                                        f"{self.history()}")

        instances = {i.InstanceId: i for i in self.list_instances()}
        assert set(instances) == set(self.instances), (
            f"instances only on the server: {sorted(set(instances) - set(self.instances))}, only "
            f"in the model: {sorted(set(self.instances) - set(instances))}{self.history()}")
        for instance_id, instance in self.instances.items():
            got = instances[instance_id]
            own = [d for d in self.disks.values() if instance_id in d.attached]
            system = [d.disk_id for d in own if d.usage == SYSTEM]
            expected = {"InstanceState": instance.state, "Zone": instance.zone,
                        "InstanceName": instance.name, "InstanceChargeType": instance.charge,
                        "SystemDisk": system[0] if system else None,
                        "DataDisks": sorted(d.disk_id for d in own if d.usage == DATA)}
            actual = {"InstanceState": got.InstanceState, "Zone": got.Placement.Zone,
                      "InstanceName": got.InstanceName,
                      "InstanceChargeType": got.InstanceChargeType,
                      "SystemDisk": got.SystemDisk.DiskId if got.SystemDisk else None,
                      "DataDisks": sorted(d.DiskId for d in got.DataDisks or [])}
            assert actual == expected, (f"{instance_id}: server {actual} != model {expected}"
                                        f"{self.history()}")

        if self.instances:
            detail = self.cbs.DescribeInstancesDiskNum(sdk_request(
                cbs_models.DescribeInstancesDiskNumRequest,
                InstanceIds=list(self.instances))).AttachDetail
            counts = {a.InstanceId: (a.AttachedDiskCount, a.MaxAttachCount) for a in detail}
            expected = {i: (self.data_count(i), MAX_ATTACH) for i in self.instances}
            assert counts == expected, (f"DescribeInstancesDiskNum: server {counts} != model "
                                        f"{expected}{self.history()}")


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("lifecycle-model") / "data", timing="instant").start()
    yield server
    server.stop()


def test_lifecycle_follows_the_model(model_server):
    LifecycleMachine.server = model_server
    run_state_machine_as_test(LifecycleMachine, settings=SETTINGS)
