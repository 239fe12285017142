"""Responses along an instance's and a disk's life, passed through the official SDK's response
models (the method of test_response_shapes.py): a field the SDK does not know, or a field it
expects that we omit, fails the test at every level of nesting. Covered: CVM RunInstances and
DescribeInstances, CBS DescribeDisks for disks in every state the server produces (system and
bundled data disks, attached elastic, shareable on two instances, returned to the recycle bin,
attaching, detaching, changing type), DescribeDiskConfigQuota and DescribeInstancesDiskNum."""

from __future__ import annotations

import time
import warnings

import pytest
from tencentcloud.cbs.v20170312 import models as cbs_models
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models

from tests.e2e.server import REGION, ZONE, Server, cbs_client, client_profile, credential
from tests.e2e.test_response_shapes import shape_problems

IMAGE_ID = "img-pmqg1cw7"
INSTANCE_TYPE = "S5.MEDIUM4"
TAG = {"Key": "lifecycle", "Value": "shapes"}


def cvm(server: Server):
    return cvm_client.CvmClient(credential(), REGION, client_profile(server))


def exact(model_class, data: dict, path: str) -> list[str]:
    """shape_problems, plus the SDK's own complaint while deserializing: a UserWarning naming the
    fields it does not know ("X fileds are useless."). Its DeprecationWarnings for deprecated
    fields that it does know (Instance.DisasterRecoverGroupId, ...) are no problem."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        problems = shape_problems(model_class, data, path)
    return problems + [f"{path}: SDK warning: {w.message}" for w in caught
                       if not issubclass(w.category, DeprecationWarning)]


def call(client, action: str, params: dict, models_module) -> dict:
    """Call `action` through the official client, check its whole response against the SDK's
    `<action>Response` model, and return the response."""
    response = client.call_json(action, params)["Response"]
    assert "Error" not in response, response
    model = getattr(models_module, f"{action}Response")
    assert exact(model, response, f"{action}Response") == []
    return response


def run_instances(client, **extra) -> list[str]:
    params = {
        "Placement": {"Zone": ZONE}, "ImageId": IMAGE_ID, "InstanceType": INSTANCE_TYPE,
        "DataDisks": [{"DiskSize": 50}],
        "InternetAccessible": {"InternetMaxBandwidthOut": 10, "PublicIpAssigned": True},
        "TagSpecification": [{"ResourceType": "instance", "Tags": [TAG]}],
    }
    params.update(extra)
    return call(client, "RunInstances", params, cvm_models)["InstanceIdSet"]


def describe_instances(client, instance_ids: list[str]) -> dict[str, dict]:
    response = call(client, "DescribeInstances", {"InstanceIds": instance_ids}, cvm_models)
    assert response["TotalCount"] == len(instance_ids)
    return {i["InstanceId"]: i for i in response["InstanceSet"]}


def describe_disks(client, disk_ids: list[str]) -> dict[str, dict]:
    found = {}
    for flag in (True, False):
        response = call(client, "DescribeDisks", {
            "DiskIds": disk_ids, "ReturnBindAutoSnapshotPolicy": flag, "Limit": 100}, cbs_models)
        assert response["TotalCount"] == len(disk_ids)
        found = {d["DiskId"]: d for d in response["DiskSet"]}
    assert set(found) == set(disk_ids)
    return found


def create_disks(client, **params) -> list[str]:
    return call(client, "CreateDisks", {"Placement": {"Zone": ZONE}, **params},
                cbs_models)["DiskIdSet"]


def until(check, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} never held"
        time.sleep(0.1)


def test_the_checker_also_reports_the_sdk_warning():
    assert exact(cvm_models.Tag, TAG, "Tag") == []
    problems = exact(cvm_models.Tag, {**TAG, "Colour": "blue"}, "Tag")
    assert problems[0] == "Tag.Colour: unknown to the SDK"
    assert any("SDK warning" in p and "Colour" in p for p in problems[1:])


@pytest.fixture(scope="module")
def fleet(server):
    """On the shared (instant) server: two pay-as-you-go instances A and B and a prepaid one P,
    each with a bundled 50 GiB data disk; an elastic disk attached to A; a shareable disk on A
    and B; a prepaid elastic disk returned with TerminateDisks."""
    vm, cbs = cvm(server), cbs_client(server)
    a, b = run_instances(vm, InstanceCount=2, InstanceName="shape-{R:1}")
    (p,) = run_instances(vm, InstanceChargeType="PREPAID", InstanceChargePrepaid={"Period": 1},
                         InstanceName="shape-prepaid")
    (elastic,) = create_disks(cbs, DiskType="CLOUD_PREMIUM", DiskSize=20,
                              DiskChargeType="POSTPAID_BY_HOUR")
    call(cbs, "AttachDisks", {"DiskIds": [elastic], "InstanceId": a}, cbs_models)
    (shared,) = create_disks(cbs, DiskType="CLOUD_SSD", DiskSize=100,
                             DiskChargeType="POSTPAID_BY_HOUR", Shareable=True)
    for instance_id in (a, b):
        call(cbs, "AttachDisks", {"DiskIds": [shared], "InstanceId": instance_id}, cbs_models)
    (returned,) = create_disks(cbs, DiskType="CLOUD_PREMIUM", DiskSize=20, DiskChargeType="PREPAID",
                               DiskChargePrepaid={"Period": 1})
    call(cbs, "TerminateDisks", {"DiskIds": [returned]}, cbs_models)
    instances = describe_instances(vm, [a, b, p])
    return {"vm": vm, "cbs": cbs, "a": a, "b": b, "p": p, "elastic": elastic,
            "shared": shared, "returned": returned, "instances": instances}


def test_describe_instances_matches_the_cvm_models(fleet):
    instances = fleet["instances"]
    for instance_id, instance in instances.items():
        assert instance["InstanceState"] == "RUNNING"
        assert instance["Placement"]["Zone"] == ZONE
        assert instance["InstanceType"] == INSTANCE_TYPE
        assert instance["ImageId"] == IMAGE_ID
        assert instance["InternetAccessible"]["InternetMaxBandwidthOut"] == 10
        assert instance["InternetAccessible"]["PublicIpAssigned"] is True
        assert len(instance["PublicIpAddresses"]) == 1
        assert instance["PrivateIpAddresses"] == instance["VirtualPrivateCloud"]["PrivateIpAddresses"]
        assert instance["Tags"] == [TAG]
        assert instance["SystemDisk"]["DiskId"].startswith("disk-")
        assert instance["LatestOperation"] == "RunInstances"
        assert instance["LatestOperationState"] == "SUCCESS"
    a, b, p = (instances[fleet[k]] for k in ("a", "b", "p"))
    assert (a["InstanceName"], b["InstanceName"]) == ("shape-1", "shape-2")
    for postpaid in (a, b):
        assert postpaid["InstanceChargeType"] == "POSTPAID_BY_HOUR"
        assert postpaid["ExpiredTime"] is None
    assert p["InstanceChargeType"] == "PREPAID"
    assert p["ExpiredTime"] and p["RenewFlag"]
    # The bundled data disk, then the elastic disks as they were attached.
    bundled = {i: [d for d in inst["DataDisks"] if d["DiskSize"] == 50] for i, inst in instances.items()}
    assert all(len(disks) == 1 and disks[0]["DeleteWithInstance"] is True
               for disks in bundled.values())
    assert {d["DiskId"] for d in a["DataDisks"]} == {
        bundled[fleet["a"]][0]["DiskId"], fleet["elastic"], fleet["shared"]}
    assert {d["DiskId"] for d in b["DataDisks"]} == {bundled[fleet["b"]][0]["DiskId"], fleet["shared"]}
    assert [d["DiskId"] for d in p["DataDisks"]] == [bundled[fleet["p"]][0]["DiskId"]]


def test_describe_disks_in_every_state_matches_the_cbs_model(fleet):
    instances = fleet["instances"]
    own = {}  # disk ID -> (instance ID, usage)
    for instance_id, instance in instances.items():
        own[instance["SystemDisk"]["DiskId"]] = (instance_id, "SYSTEM_DISK")
        for data_disk in instance["DataDisks"]:
            if data_disk["DiskSize"] == 50:
                own[data_disk["DiskId"]] = (instance_id, "DATA_DISK")
    assert len(own) == 6
    disks = describe_disks(fleet["cbs"], [*own, fleet["elastic"], fleet["shared"], fleet["returned"]])

    for disk_id, (instance_id, usage) in own.items():
        disk = disks[disk_id]
        assert disk["DiskUsage"] == usage
        assert disk["Portable"] is False
        assert disk["DiskState"] == "ATTACHED" and disk["Attached"] is True
        assert disk["InstanceId"] == instance_id and disk["InstanceIdList"] == [instance_id]
        assert disk["DeleteWithInstance"] is True
        assert disk["IsReturnable"] is False
        prepaid = instance_id == fleet["p"]
        assert disk["DiskChargeType"] == ("PREPAID" if prepaid else "POSTPAID_BY_HOUR")
        assert bool(disk["DeadlineTime"]) is prepaid
        described = instances[instance_id]
        spec = (described["SystemDisk"] if usage == "SYSTEM_DISK"
                else next(d for d in described["DataDisks"] if d["DiskId"] == disk_id))
        assert (spec["DiskType"], spec["DiskSize"]) == (disk["DiskType"], disk["DiskSize"])
        if usage == "DATA_DISK":
            assert disk["DiskSize"] == 50

    elastic = disks[fleet["elastic"]]
    assert elastic["Portable"] is True and elastic["DiskUsage"] == "DATA_DISK"
    assert elastic["DiskState"] == "ATTACHED" and elastic["Attached"] is True
    assert elastic["InstanceId"] == fleet["a"] and elastic["InstanceIdList"] == [fleet["a"]]

    shared = disks[fleet["shared"]]
    assert shared["Shareable"] is True and shared["DiskState"] == "ATTACHED"
    assert sorted(shared["InstanceIdList"]) == sorted([fleet["a"], fleet["b"]])

    returned = disks[fleet["returned"]]
    assert returned["DiskState"] == "TORECYCLE"
    assert returned["ReturnFailCode"] == 1 and returned["IsReturnable"] is False
    assert returned["DiskChargeType"] == "PREPAID" and returned["Attached"] is False


def test_describe_instances_disk_num_counts_data_disks_only(fleet):
    response = call(fleet["cbs"], "DescribeInstancesDiskNum",
                    {"InstanceIds": [fleet["a"], fleet["b"], fleet["p"]]}, cbs_models)
    counts = {d["InstanceId"]: d["AttachedDiskCount"] for d in response["AttachDetail"]}
    # A: bundled + elastic + shareable; B: bundled + shareable; P: bundled (no system disks).
    assert counts == {fleet["a"]: 3, fleet["b"]: 2, fleet["p"]: 1}
    assert all(d["MaxAttachCount"] >= 3 for d in response["AttachDetail"])


@pytest.mark.parametrize("inquiry", ["INQUIRY_CBS_CONFIG", "INQUIRY_CVM_CONFIG"])
def test_describe_disk_config_quota_matches_the_cbs_model(server, inquiry):
    params = {"InquiryType": inquiry, "Zones": [ZONE]}
    if inquiry == "INQUIRY_CVM_CONFIG":
        params.update(InstanceFamilies=["S5"], CPU=2, Memory=4)
    configs = call(cbs_client(server), "DescribeDiskConfigQuota", params,
                   cbs_models)["DiskConfigSet"]
    assert configs
    for config in configs:
        assert config["Zone"] == ZONE
        assert config["MinDiskSize"] <= config["MaxDiskSize"]
        assert config["Price"] is not None  # an object, checked field by field above
    usages = {c["DiskUsage"] for c in configs}
    if inquiry == "INQUIRY_CBS_CONFIG":
        assert usages == {"DATA_DISK"}
    else:
        assert usages == {"SYSTEM_DISK", "DATA_DISK"}
        assert {c["InstanceFamily"] for c in configs} == {"S5"}
        # What RunInstances bought above is on sale: a 50 GiB CLOUD_PREMIUM data disk with S5.
        premium = [c for c in configs if c["DiskType"] == "CLOUD_PREMIUM"
                   and c["DiskUsage"] == "DATA_DISK"]
        assert premium and all(c["Available"] and c["MinDiskSize"] <= 50 <= c["MaxDiskSize"]
                               for c in premium)


def test_transitional_states_under_realistic_timing(tmp_path):
    """PENDING instance; ATTACHING, DETACHING and changing type (Migrating) disks."""
    server = Server(tmp_path / "data", timing="realistic").start()
    try:
        vm, cbs = cvm(server), cbs_client(server)
        (instance_id,) = run_instances(vm)
        migrating, moving = create_disks(cbs, DiskType="CLOUD_PREMIUM", DiskSize=100,
                                         DiskChargeType="POSTPAID_BY_HOUR", DiskCount=2)
        assert describe_instances(vm, [instance_id])[instance_id]["InstanceState"] == "PENDING"
        until(lambda: describe_instances(vm, [instance_id])[instance_id]["InstanceState"] == "RUNNING",
              what="launch")
        until(lambda: cbs.call_json("DescribeDisks", {"DiskIds": [migrating, moving]})
              ["Response"]["TotalCount"] == 2, what="creation")

        call(cbs, "ModifyDiskAttributes", {"DiskIds": [migrating], "DiskType": "CLOUD_SSD"},
             cbs_models)
        call(cbs, "AttachDisks", {"DiskIds": [moving], "InstanceId": instance_id}, cbs_models)
        disks = describe_disks(cbs, [migrating, moving])
        changing = disks[migrating]
        assert changing["Migrating"] is True and 0 <= changing["MigratePercent"] < 100
        assert changing["DiskType"] == "CLOUD_PREMIUM" and changing["DiskState"] == "UNATTACHED"
        assert disks[moving]["DiskState"] == "ATTACHING"

        until(lambda: describe_disks(cbs, [moving])[moving]["DiskState"] == "ATTACHED",
              what="attach")
        call(cbs, "DetachDisks", {"DiskIds": [moving]}, cbs_models)
        assert describe_disks(cbs, [moving])[moving]["DiskState"] == "DETACHING"

        done = until(lambda: (lambda d: d if not d["Migrating"] else None)(
            describe_disks(cbs, [migrating])[migrating]), what="type change")
        assert (done["DiskType"], done["MigratePercent"]) == ("CLOUD_SSD", 0)
        assert "Traceback" not in server.log_text()
    finally:
        server.stop()
