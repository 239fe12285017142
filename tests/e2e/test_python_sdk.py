"""The official Python SDK against a real cbslocal process: every request shape, CreateDisks and
DescribeDisks in full, and the exact code of every failure a Python request can provoke."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime
from unittest import mock

import pytest
import requests
from tencentcloud.cbs.v20170312 import models
from tencentcloud.common import abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.e2e.server import (DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, ZONE, cbs_client,
                              common_client)

SHAPES = {
    "POST JSON, TC3": {},
    "GET, TC3": {"method": "GET"},
    "POST JSON, TC3, UNSIGNED-PAYLOAD": {"unsigned_payload": True},
    "POST form, v1 HmacSHA1": {"sign_method": "HmacSHA1"},
    "POST form, v1 HmacSHA256": {"sign_method": "HmacSHA256"},
    "GET, v1 HmacSHA1": {"sign_method": "HmacSHA1", "method": "GET"},
    "GET, v1 HmacSHA256": {"sign_method": "HmacSHA256", "method": "GET"},
}
DISK_FIELDS = 44


def request(model, **fields):
    req = model()
    req.from_json_string(json.dumps(fields))
    return req


def create(client, **fields) -> list[str]:
    body = {"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
            "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}
    body.update(fields)
    return client.CreateDisks(request(models.CreateDisksRequest, **body)).DiskIdSet


def describe(client, **fields):
    return client.DescribeDisks(request(models.DescribeDisksRequest, **fields))


def error_of(fn, *args) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as failure:
        fn(*args)
    assert uuid.UUID(failure.value.requestId)
    return failure.value


def create_error(client, **fields) -> TencentCloudSDKException:
    return error_of(lambda: create(client, **fields))


def call_error(client, action: str, params: dict) -> TencentCloudSDKException:
    return error_of(lambda: client.call_json(action, params))


# --- request shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_request_shape_creates_and_describes(server, shape):
    client = cbs_client(server, **SHAPES[shape])
    tag = {"Key": "shape", "Value": shape}
    disk_ids = create(client, DiskCount=2, Tags=[tag], DiskName=f"shape {shape}",
                      Shareable=False)
    found = describe(client, Filters=[{"Name": "tag:shape", "Values": [shape]}],
                     ReturnBindAutoSnapshotPolicy=True)
    assert found.TotalCount == 2
    assert sorted(d.DiskId for d in found.DiskSet) == sorted(disk_ids)
    assert found.DiskSet[0].DiskName == f"shape {shape}"
    assert found.DiskSet[0].AutoSnapshotPolicyIds == []


def test_multipart_request(server):
    client = common_client(server)
    (disk_id,) = create(cbs_client(server), DiskName="multipart")
    reply = client.call_json("DescribeDisks", {"DiskIds": [disk_id], "Limit": "5"},
                             options={"IsMultipart": True})
    assert reply["Response"]["TotalCount"] == 1
    assert reply["Response"]["DiskSet"][0]["DiskName"] == "multipart"


# --- CreateDisks and the Disk object -------------------------------------------------------------
def test_created_disk_has_every_field(server):
    client = cbs_client(server)
    before = time.time()
    (disk_id,) = create(client, DiskSize=100, DiskName="full", DiskType="CLOUD_SSD",
                        Tags=[{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "dev"}],
                        Encrypt="ENCRYPT", DeleteSnapshot=1)
    raw = cbs_client(server).call_json("DescribeDisks", {"DiskIds": [disk_id]})["Response"]
    disk = raw["DiskSet"][0]
    assert len(disk) == DISK_FIELDS
    assert disk["DiskId"] == disk_id and re.fullmatch(r"disk-[a-z0-9]{8}", disk_id)
    assert disk["DiskState"] == "UNATTACHED" and disk["Attached"] is False
    assert disk["DiskUsage"] == "DATA_DISK" and disk["Portable"] is True
    assert disk["DiskType"] == "CLOUD_SSD" and disk["DiskSize"] == 100
    assert disk["DiskChargeType"] == "POSTPAID_BY_HOUR"
    assert disk["Placement"] == {"Zone": ZONE, "CageId": "", "CdcId": "", "CdcName": "",
                                 "DedicatedClusterId": None, "ProjectId": 0, "ProjectName": "默认项目"}
    assert disk["Tags"] == [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "dev"}]
    assert disk["Encrypt"] is True and disk["EncryptType"] == "ENCRYPT_V2"
    assert disk["DeleteSnapshot"] == 1
    assert disk["InstanceId"] == "" and disk["InstanceIdList"] == [] and disk["InstanceType"] == ""
    assert disk["LastAttachInsId"] is None
    assert disk["DeadlineTime"] == "" and disk["RenewFlag"] == "" and disk["DifferDaysOfDeadline"] is None
    assert disk["IsReturnable"] is False and disk["ReturnFailCode"] == 10
    assert disk["AutoSnapshotPolicyIds"] is None  # only with ReturnBindAutoSnapshotPolicy
    assert disk["SnapshotAbility"] is True and disk["Shareable"] is False
    created = datetime.strptime(disk["CreateTime"] + " +0800", "%Y-%m-%d %H:%M:%S %z").timestamp()
    assert before - 2 <= created <= time.time() + 1


def test_prepaid_disk_has_a_deadline(server):
    client = cbs_client(server)
    (disk_id,) = create(client, DiskChargeType="PREPAID",
                        DiskChargePrepaid={"Period": 1, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"})
    disk = describe(client, DiskIds=[disk_id]).DiskSet[0]
    assert disk.DiskChargeType == "PREPAID"
    assert disk.RenewFlag == "NOTIFY_AND_AUTO_RENEW"
    assert disk.DeadlineTime[11:] == disk.CreateTime[11:]  # same time of day, a month later
    assert 27 <= disk.DifferDaysOfDeadline <= 31
    assert disk.IsReturnable is True and disk.ReturnFailCode == 0


def test_default_disk_name_follows_the_language(server):
    (zh,) = create(cbs_client(server))
    (en,) = create(cbs_client(server, language="en-US"))
    names = {d.DiskId: d.DiskName for d in describe(cbs_client(server), DiskIds=[zh, en]).DiskSet}
    assert names == {zh: "未命名", en: "Unnamed"}


def test_shareable_disk_cannot_snapshot(server):
    (disk_id,) = create(cbs_client(server), Shareable=True)
    disk = describe(cbs_client(server), DiskIds=[disk_id]).DiskSet[0]
    assert disk.Shareable is True and disk.SnapshotAbility is False


def test_client_token_makes_create_idempotent(server):
    client = cbs_client(server)
    token = f"tok-{uuid.uuid4()}"
    first = create(client, DiskCount=3, ClientToken=token)
    again = create(client, DiskCount=3, ClientToken=token)
    assert first == again
    assert describe(client, DiskIds=first).TotalCount == 3
    other = create(client, DiskCount=1, ClientToken=token + "-other")
    assert other != first


# --- DescribeDisks -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog(server):
    """Disks of several kinds, marked with a tag unique to this module."""
    client = cbs_client(server)
    mark = uuid.uuid4().hex[:12]
    kinds = [
        dict(DiskType="CLOUD_PREMIUM", DiskSize=50, Placement={"Zone": "ap-guangzhou-3"}, DiskName="alpha"),
        dict(DiskType="CLOUD_SSD", DiskSize=100, Placement={"Zone": "ap-guangzhou-4"}, DiskName="beta"),
        dict(DiskType="CLOUD_HSSD", DiskSize=500, Placement={"Zone": "ap-guangzhou-4"}, DiskName="gamma",
             DiskChargeType="PREPAID", DiskChargePrepaid={"Period": 2}),
        dict(DiskType="CLOUD_BSSD", DiskSize=20, Placement={"Zone": "ap-guangzhou-6"}, DiskName="delta"),
    ]
    made = []
    for kind in kinds:
        made += create(client, Tags=[{"Key": "catalog", "Value": mark},
                                     {"Key": "name", "Value": kind["DiskName"]}], **kind)
        time.sleep(1.05)  # distinct CreateTime seconds, so that ordering is observable
    return mark, made


def marked(mark, *extra):
    return [{"Name": "tag:catalog", "Values": [mark]}, *extra]


@pytest.mark.parametrize("flt,expected", [
    ({"Name": "zone", "Values": ["ap-guangzhou-4"]}, ["beta", "gamma"]),
    ({"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-6"]}, ["alpha", "delta"]),
    ({"Name": "disk-type", "Values": ["CLOUD_SSD", "CLOUD_HSSD"]}, ["beta", "gamma"]),
    ({"Name": "disk-charge-type", "Values": ["PREPAID"]}, ["gamma"]),
    ({"Name": "disk-usage", "Values": ["DATA_DISK"]}, ["alpha", "beta", "gamma", "delta"]),
    ({"Name": "disk-usage", "Values": ["SYSTEM_DISK"]}, []),
    ({"Name": "portable", "Values": ["true"]}, ["alpha", "beta", "gamma", "delta"]),
    ({"Name": "portable", "Values": ["FALSE"]}, []),
    ({"Name": "project-id", "Values": ["0"]}, ["alpha", "beta", "gamma", "delta"]),
    ({"Name": "disk-name", "Values": ["beta", "delta"]}, ["beta", "delta"]),
    ({"Name": "disk-state", "Values": ["UNATTACHED"]}, ["alpha", "beta", "gamma", "delta"]),
    ({"Name": "disk-state", "Values": ["ATTACHED"]}, []),
    ({"Name": "tag-key", "Values": ["name"]}, ["alpha", "beta", "gamma", "delta"]),
    ({"Name": "tag-value", "Values": ["gamma"]}, ["gamma"]),
    ({"Name": "tag:name", "Values": ["alpha", "gamma"]}, ["alpha", "gamma"]),
    ({"Name": "instance-id", "Values": ["ins-00000000"]}, []),
])
def test_filters(server, catalog, flt, expected):
    mark, _ = catalog
    found = describe(cbs_client(server), Filters=marked(mark, flt), Limit=100)
    assert [d.DiskName for d in found.DiskSet] == expected
    assert found.TotalCount == len(expected)


def test_disk_id_filter_and_ids(server, catalog):
    mark, made = catalog
    client = cbs_client(server)
    assert [d.DiskId for d in describe(client, Filters=[{"Name": "disk-id", "Values": made[1:3]}]).DiskSet] == made[1:3]
    found = describe(client, DiskIds=[made[3], "disk-00000000", made[0]])
    assert found.TotalCount == 2  # an unknown ID is simply not listed
    assert [d.DiskId for d in found.DiskSet] == [made[0], made[3]]


def test_order_and_pagination(server, catalog):
    mark, made = catalog
    client = cbs_client(server)
    newest_first = describe(client, Filters=marked(mark), Order="DESC", OrderField="CREATE_TIME")
    assert [d.DiskId for d in newest_first.DiskSet] == made[::-1]
    assert [d.DiskId for d in describe(client, Filters=marked(mark), OrderField="CREATETIME").DiskSet] == made
    page = describe(client, Filters=marked(mark), Limit=2, Offset=1)
    assert page.TotalCount == 4 and [d.DiskId for d in page.DiskSet] == made[1:3]
    past_end = describe(client, Filters=marked(mark), Limit=2, Offset=20)
    assert past_end.TotalCount == 4 and past_end.DiskSet == []
    by_deadline = describe(client, Filters=marked(mark), OrderField="DEADLINE")
    assert [d.DiskName for d in by_deadline.DiskSet][0] == "gamma"  # only gamma has a deadline


@pytest.mark.parametrize("filters", [
    [],                                                         # counted by the disk census
    [{"Name": "zone", "Values": ["ap-guangzhou-4"]}],
    [{"Name": "tag:count", "Values": ["MARK"]}],                # by the tag census
    [{"Name": "tag-key", "Values": ["count-MARK"]}],
    [{"Name": "disk-name", "Values": ["count-MARK"]}],          # by counting disks
    [{"Name": "tag-value", "Values": ["MARK"]}],
    [{"Name": "tag:count", "Values": ["MARK"]}, {"Name": "zone", "Values": ["ap-guangzhou-4"]}],
])
def test_total_count_of_a_full_page(fresh_server, filters):
    client = cbs_client(fresh_server)
    mark = uuid.uuid4().hex
    filters = json.loads(json.dumps(filters).replace("MARK", mark))
    create(client, DiskCount=7, Placement={"Zone": "ap-guangzhou-4"}, DiskName=f"count-{mark}",
           Tags=[{"Key": "count", "Value": mark}, {"Key": f"count-{mark}", "Value": "x"}])
    create(client, DiskCount=2, Placement={"Zone": "ap-guangzhou-3"}, DiskName="other")
    expected = 7 if filters else 9
    for offset in (0, 3, 6):
        page = describe(client, Filters=filters or None, Limit=2, Offset=offset) if filters else \
            describe(client, Limit=2, Offset=offset)
        assert page.TotalCount == expected
        assert len(page.DiskSet) == min(2, expected - offset)


def test_default_limit_is_20(server):
    client = cbs_client(server)
    mark = uuid.uuid4().hex
    create(client, DiskCount=25, Tags=[{"Key": "bulk", "Value": mark}])
    found = describe(client, Filters=[{"Name": "tag:bulk", "Values": [mark]}])
    assert found.TotalCount == 25 and len(found.DiskSet) == 20
    assert len(describe(client, Filters=[{"Name": "tag:bulk", "Values": [mark]}], Limit=100).DiskSet) == 25


# --- isolation -----------------------------------------------------------------------------------
def test_accounts_and_regions_are_isolated(server):
    other = server.control("POST", "/accounts", {"name": "isolation"}).json()
    mine = cbs_client(server)
    theirs = cbs_client(server, other["SecretId"], other["SecretKey"])
    (disk_id,) = create(mine)
    assert describe(theirs, DiskIds=[disk_id]).TotalCount == 0
    assert describe(theirs).TotalCount == 0
    (their_disk,) = create(theirs)
    assert describe(theirs).TotalCount == 1
    assert describe(mine, DiskIds=[their_disk]).TotalCount == 0
    shanghai = cbs_client(server, region="ap-shanghai")
    assert describe(shanghai, DiskIds=[disk_id]).TotalCount == 0
    assert create_error(mine, Placement={"Zone": "ap-shanghai-2"}).code == "InvalidParameterValue"
    (sh_disk,) = create(shanghai, Placement={"Zone": "ap-shanghai-2"})
    assert describe(shanghai, DiskIds=[sh_disk]).DiskSet[0].Placement.Zone == "ap-shanghai-2"


# --- authentication --------------------------------------------------------------------------------
def test_signature_failure(server):
    client = cbs_client(server, DEFAULT_SECRET_ID, "wrong" + DEFAULT_SECRET_KEY)
    failure = error_of(describe, client)
    assert failure.code == "AuthFailure.SignatureFailure"


def test_secret_id_not_found(server):
    client = cbs_client(server, "AKID" + "x" * 32, DEFAULT_SECRET_KEY)
    assert error_of(describe, client).code == "AuthFailure.SecretIdNotFound"


def test_invalid_secret_id(server):
    client = cbs_client(server, "NOTAKEY-123", DEFAULT_SECRET_KEY)
    assert error_of(describe, client).code == "AuthFailure.InvalidSecretId"


@pytest.mark.parametrize("skew", [-400, 400])
def test_signature_expire(server, skew):
    real = time.time

    class Skewed:
        @staticmethod
        def time():
            return real() + skew

    with mock.patch.object(abstract_client, "time", Skewed):
        failure = error_of(describe, cbs_client(server))
    assert failure.code == "AuthFailure.SignatureExpire"


def test_small_clock_skew_is_accepted(server):
    real = time.time

    class Skewed:
        @staticmethod
        def time():
            return real() - 200

    with mock.patch.object(abstract_client, "time", Skewed):
        assert describe(cbs_client(server)).TotalCount >= 0


def test_temporary_credentials_and_token_failure(server):
    temp = server.control("POST", "/accounts/100000000001/keys", {"ttl": 3600}).json()
    assert temp["Token"]
    ok = cbs_client(server, temp["SecretId"], temp["SecretKey"], token=temp["Token"])
    assert describe(ok).TotalCount >= 0
    wrong = cbs_client(server, temp["SecretId"], temp["SecretKey"], token="not-the-token")
    assert error_of(describe, wrong).code == "AuthFailure.TokenFailure"
    missing = cbs_client(server, temp["SecretId"], temp["SecretKey"])
    assert error_of(describe, missing).code == "AuthFailure.TokenFailure"
    permanent_with_token = cbs_client(server, token="a-token")
    assert error_of(describe, permanent_with_token).code == "AuthFailure.TokenFailure"
    expiring = server.control("POST", "/accounts/100000000001/keys", {"ttl": 1}).json()
    time.sleep(1.2)
    expired = cbs_client(server, expiring["SecretId"], expiring["SecretKey"], token=expiring["Token"])
    assert error_of(describe, expired).code == "AuthFailure.TokenFailure"


def test_v1_signature_failure(server):
    client = cbs_client(server, DEFAULT_SECRET_ID, "wrong", sign_method="HmacSHA256", method="GET")
    assert error_of(describe, client).code == "AuthFailure.SignatureFailure"


# --- the framework codes -----------------------------------------------------------------------------
def test_invalid_action(server):
    assert call_error(common_client(server), "DescribeDisk", {}).code == "InvalidAction"
    assert call_error(common_client(server), "DescribeInstances", {}).code == "InvalidAction"


def test_no_such_version(server):
    assert call_error(common_client(server, version="2019-03-12"), "DescribeDisks", {}).code == "NoSuchVersion"


def test_unsupported_region(server):
    assert error_of(describe, cbs_client(server, region="ap-nowhere")).code == "UnsupportedRegion"


def test_missing_region(server):
    failure = error_of(describe, cbs_client(server, region=""))
    assert failure.code == "MissingParameter" and "X-TC-Region" in failure.message


def test_unknown_parameter(server):
    failure = call_error(common_client(server), "DescribeDisks", {"DiskIdz": ["disk-00000000"]})
    assert failure.code == "UnknownParameter" and "DiskIdz" in failure.message


def test_invalid_parameter(server):
    failure = call_error(common_client(server), "DescribeDisks", {"Limit": "abc"})
    assert failure.code == "InvalidParameter" and "Limit" in failure.message


def test_unimplemented_action_is_unsupported_operation(server):
    failure = call_error(common_client(server), "DescribeDiskStoragePool", {})
    assert failure.code == "UnsupportedOperation" and "DescribeDiskStoragePool" in failure.message


def test_unsupported_protocol(server):
    for method in ("PUT", "DELETE", "PATCH"):
        reply = requests.request(method, server.url + "/", timeout=10,
                                 proxies={"http": None, "https": None})
        assert reply.status_code == 200
        assert reply.headers["Content-Type"] == "application/json"
        assert reply.json()["Response"]["Error"]["Code"] == "UnsupportedProtocol"


def test_messages_follow_the_language(server):
    zh = call_error(common_client(server), "DescribeDisks", {"Filters": [{"Name": "colour", "Values": ["x"]}]})
    en = call_error(common_client(server, language="en-US"), "DescribeDisks",
                    {"Filters": [{"Name": "colour", "Values": ["x"]}]})
    assert zh.code == en.code == "InvalidFilter"
    assert zh.message.startswith("指定的Filter不被支持。")
    assert en.message.startswith("The specified filter is not supported.")
    assert "'colour'" in en.message


# --- DescribeDisks errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("params,code", [
    ({"Filters": [{"Name": "color", "Values": ["red"]}]}, "InvalidFilter"),
    ({"Filters": [{"Name": "zone", "Values": []}]}, "InvalidParameterValue"),
    ({"Filters": [{"Name": "disk-usage", "Values": ["DATA_DSK"]}]}, "InvalidParameterValue"),
    ({"Filters": [{"Name": "portable", "Values": ["yes"]}]}, "InvalidParameterValue"),
    ({"Filters": [{"Name": "project-id", "Values": ["zero"]}]}, "InvalidParameterValue"),
    ({"Filters": [{"Name": "zone"}]}, "MissingParameter"),
    ({"Limit": 101}, "InvalidParameterValue"),
    ({"Order": "UP"}, "InvalidParameterValue"),
    ({"OrderField": "SIZE"}, "InvalidParameterValue"),
    ({"DiskIds": ["disk-00000000"], "Filters": [{"Name": "zone", "Values": [ZONE]}]},
     "InvalidParameterValue"),
    ({"DiskIds": ["vol-123"]}, "InvalidParameterValue"),
    ({"DiskIds": [f"disk-{i:08d}" for i in range(101)]}, "InvalidParameterValue.LimitExceeded"),
    ({"Offset": -1}, "InvalidParameter"),
])
def test_describe_disks_errors(server, params, code):
    assert call_error(common_client(server), "DescribeDisks", params).code == code


# --- CreateDisks errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("fields,code,mentions", [
    ({"DiskSize": None}, "MissingParameter", "DiskSize"),
    ({"DiskChargeType": "PREPAID"}, "MissingParameter", "DiskChargePrepaid"),
    ({"DiskChargeType": "MONTHLY"}, "InvalidParameterValue", "DiskChargeType"),
    ({"DiskType": "CLOUD_FLOPPY"}, "InvalidParameterValue", "DiskType"),
    ({"DiskCount": 0}, "InvalidParameterValue", "DiskCount"),
    ({"DiskCount": 51}, "InvalidParameterValue", "DiskCount"),
    ({"DiskChargeType": "PREPAID", "DiskChargePrepaid": {"Period": 13}}, "InvalidParameterValue", "Period"),
    ({"DiskChargeType": "PREPAID", "DiskChargePrepaid": {"Period": 1, "RenewFlag": "AUTO"}},
     "InvalidParameterValue", "RenewFlag"),
    ({"Placement": {"Zone": "ap-guangzhou-99"}}, "InvalidParameterValue", "Placement.Zone"),
    ({"Placement": {"Zone": "ap-shanghai-2"}}, "InvalidParameterValue", "Placement.Zone"),
    ({"Placement": {"Zone": ZONE, "ProjectId": 42}}, "InvalidParameterValue", "ProjectId"),
    ({"DiskName": "x" * 61}, "InvalidParameterValue", "DiskName"),
    ({"DiskName": "磁" * 21}, "InvalidParameterValue", "DiskName"),  # 63 bytes
    ({"ClientToken": "t" * 65}, "InvalidParameterValue", "ClientToken"),
    ({"Shareable": True, "Encrypt": "ENCRYPT"}, "InvalidParameterValue", "Shareable"),
    ({"KmsKeyId": "kms-1"}, "InvalidParameterValue", "KmsKeyId"),
    ({"EncryptType": "ENCRYPT_V1"}, "InvalidParameterValue", "EncryptType"),
    ({"ThroughputPerformance": 100}, "InvalidParameterValue", "ThroughputPerformance"),
    ({"DiskType": "CLOUD_HSSD", "DiskSize": 100, "ThroughputPerformance": 100}, "InvalidParameterValue",
     "ThroughputPerformance"),
    ({"DiskType": "CLOUD_HSSD", "DiskSize": 100, "BurstPerformance": True}, "InvalidParameterValue",
     "BurstPerformance"),
    ({"DiskType": "CLOUD_HSSD", "DiskSize": 500, "ThroughputPerformance": 651},
     "InvalidParameterValue", "0 to 650"),
    ({"DiskSize": 5}, "InvalidParameterValue", "DiskSize"),
    ({"DiskSize": 55}, "InvalidParameterValue", "DiskSize"),
    ({"DiskSize": 32010}, "InvalidParameterValue", "DiskSize"),
    ({"DiskType": "CLOUD_SSD", "DiskSize": 10}, "InvalidParameterValue", "DiskSize"),
    ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}, "InvalidParameterValue", "Tags.1.Key"),
    ({"Tags": [{"Key": "", "Value": "1"}]}, "InvalidParameterValue", "Tags.0.Key"),
    ({"Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]}, "InvalidParameterValue.LimitExceeded", ""),
    ({"DiskType": "CLOUD_TSSD"}, "InvalidParameter.DiskConfigNotSupported", "CLOUD_TSSD"),
    ({"DiskType": "CLOUD_BASIC"}, "InvalidParameter.DiskConfigNotSupported", "CLOUD_BASIC"),
    ({"Placement": {"Zone": "ap-guangzhou-1"}}, "InvalidParameter.DiskConfigNotSupported", "sold out"),
    ({"DiskChargeType": "CDCPAID"}, "InvalidParameter.DiskConfigNotSupported", ""),
    ({"Placement": {"Zone": ZONE, "CdcId": "cdc-12345678"}}, "InvalidParameter.DiskConfigNotSupported", ""),
    ({"SnapshotId": "snap-00000000"}, "InvalidSnapshotId.NotFound", "snap-00000000"),
    ({"SnapshotId": "snapshot-1"}, "InvalidParameterValue", "SnapshotId"),
    ({"AutoMountConfiguration": {"InstanceId": ["ins-00000000"]}}, "InvalidInstanceId.NotFound", "ins-00000000"),
    ({"Encrypt": "ENCRYPT", "AutoMountConfiguration": {"InstanceId": ["ins-00000000"]}},
     "UnsupportedOperation.DiskEncrypt", ""),
])
def test_create_disks_errors(server, fields, code, mentions):
    client = cbs_client(server, language="en-US")
    before = describe(client).TotalCount
    body = {k: v for k, v in fields.items() if v is not None}
    if fields.get("DiskSize", 1) is None:
        failure = call_error(common_client(server, language="en-US"), "CreateDisks", {
            "Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_PREMIUM"})
    else:
        failure = create_error(client, **body)
    assert failure.code == code
    assert mentions in failure.message
    assert describe(client).TotalCount == before  # a refused call changes nothing


def test_create_disks_missing_required_parameters(server):
    client = common_client(server)
    for missing in ("Placement", "DiskChargeType", "DiskType"):
        body = {"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR",
                "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}
        del body[missing]
        failure = call_error(client, "CreateDisks", body)
        assert failure.code == "MissingParameter" and missing in failure.message


def test_failed_create_leaves_no_trace_of_its_client_token(server):
    client = cbs_client(server)
    token = f"tok-{uuid.uuid4()}"
    assert create_error(client, DiskType="CLOUD_TSSD", ClientToken=token).code == \
        "InvalidParameter.DiskConfigNotSupported"
    (disk_id,) = create(client, ClientToken=token)
    assert describe(client, DiskIds=[disk_id]).TotalCount == 1


def test_request_id_header_and_trace_echo(server):
    reply = requests.post(server.url + "/", data=b"{}", timeout=10,
                          headers={"Content-Type": "application/json", "X-TC-TraceId": "trace-1"},
                          proxies={"http": None, "https": None})
    body = reply.json()["Response"]
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["X-TC-RequestId"] == body["RequestId"]
    assert reply.headers["X-TC-TraceId"] == "trace-1"
    assert body["Error"]["Code"] == "AuthFailure.SignatureFailure"
