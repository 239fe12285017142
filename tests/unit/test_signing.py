"""Signature verification against the requests captured from the real clients (protocol.md §11)."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbslocal.api import messages as msg
from cbslocal.gateway import signing

KEY = "protoCheckSecretKey0000000000000000"
SID = "AKIDprotocheck0000000000000000000000"

R1_BODY = (b'{"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}, {"Name": "disk-usage", '
           b'"Values": ["DATA_DISK"]}], "Limit": 20, "Offset": 0, "ReturnBindAutoSnapshotPolicy": '
           b'true, "DiskIds": ["disk-abc12345", "disk-def67890"]}')
R2_QUERY = ("Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=disk-usage&"
            "Filters.1.Values.0=DATA_DISK&Limit=20&Offset=0&ReturnBindAutoSnapshotPolicy=True&"
            "DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890")
R4_BODY = (b'{"DiskIds":["disk-abc12345","disk-def67890"],"Filters":[{"Name":"zone","Values":'
           b'["ap-guangzhou-3"]}],"Limit":20,"Offset":0,"ReturnBindAutoSnapshotPolicy":true}')
R5_QUERY = ("DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&Filters.0.Name=zone&"
            "Filters.0.Values.0=ap-guangzhou-3&Limit=20&Offset=0&ReturnBindAutoSnapshotPolicy=true")


def auth(service: str, signature: str) -> signing.Tc3Authorization:
    return signing.parse_tc3_authorization(
        f"TC3-HMAC-SHA256 Credential={SID}/2026-11-28/{service}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}")


CAPTURED_TC3 = {
    "R1 python POST": ("POST", "", "application/json", "127.0.0.1:18080", R1_BODY, "1795835105", "cbs",
                       "e13dec538df14823eece747126e03c5378d6b6c0df35c7e54b1c655fe3b980da"),
    "R2 python GET": ("GET", R2_QUERY, "application/x-www-form-urlencoded", "127.0.0.1:18080", b"",
                      "1795835105", "cbs",
                      "a22f8f6298e44cf4445d75993b39ae55ce2a89e7f702f73aa3cd1d225515180a"),
    "R3 tccli": ("POST", "", "application/json", "http://127.0.0.1:18080",
                 b'{"Limit": 10, "DiskIds": ["disk-abc12345"]}', "1795835117", "cbs",
                 "3de0549599f0c583c6554e2b88327252812546a97f51152bd56e4a3acefdf7f7"),
    "R4 node POST": ("POST", "", "application/json", "127.0.0.1:18080", R4_BODY, "1795835141", "127",
                     "953b0b28a1815fabe256352c4c99d99e9cf79cca81d6f51f2a7cf14408397ee4"),
    "R5 node GET": ("GET", R5_QUERY, "application/x-www-form-urlencoded", "127.0.0.1:18080", b"",
                    "1795835141", "127",
                    "c2c12342f3d8fc98305a5a8884a0d88429a621a080561eb8378ec52c508697d9"),
}


@pytest.mark.parametrize("name", sorted(CAPTURED_TC3))
def test_captured_tc3_requests_verify(name):
    method, query, content_type, host, body, timestamp, service, signature = CAPTURED_TC3[name]
    headers = {"content-type": content_type, "host": host}
    assert signing.verify_tc3(KEY, auth(service, signature), method=method, raw_query=query,
                              headers=headers, body=body, timestamp=timestamp)
    # Any change to what was signed breaks it.
    assert not signing.verify_tc3(KEY + "x", auth(service, signature), method=method,
                                  raw_query=query, headers=headers, body=body, timestamp=timestamp)
    assert not signing.verify_tc3(KEY, auth(service, signature), method=method,
                                  raw_query=query + "&X=1" if method == "GET" else query,
                                  headers=headers, body=body + b" " if method == "POST" else body,
                                  timestamp=timestamp)


def test_documented_intermediate_values_of_r1():
    assert hashlib.sha256(R1_BODY).hexdigest() == (
        "82b13be67010b206be38c71d8f5f01027686a37d4e5c1fb6d65a1d5ea148a1b2")
    assert signing.utc_date(1795835105) == "2026-11-28"


def test_unsigned_payload_hashes_the_literal():
    body = b'{"Limit": 1}'
    header = auth("cbs", "0" * 64)
    expected = signing.tc3_signature(
        KEY, header, method="POST", raw_query="", header_values=["application/json", "h:1"],
        hashed_payload=hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest(), timestamp="1795835105")
    signed = auth("cbs", expected)
    headers = {"content-type": "application/json", "host": "h:1",
               "x-tc-content-sha256": "UNSIGNED-PAYLOAD"}
    assert signing.verify_tc3(KEY, signed, method="POST", raw_query="", headers=headers,
                              body=body, timestamp="1795835105")
    assert signing.verify_tc3(KEY, signed, method="POST", raw_query="", headers=headers,
                              body=b"anything else", timestamp="1795835105")


R6_BODY = ("Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=disk-usage&"
           "Filters.1.Values.0=DATA_DISK&Limit=20&Offset=0&ReturnBindAutoSnapshotPolicy=True&"
           "DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&Action=DescribeDisks&"
           "RequestClient=SDK_PYTHON_3.1.175&Nonce=2614390577465035474&Timestamp=1795835106&"
           "Version=2017-03-12&Region=ap-guangzhou&SecretId=AKIDprotocheck0000000000000000000000&"
           "SignatureMethod=HmacSHA256&Language=zh-CN&"
           "Signature=dhgTeVu%2BJGrypF7dNlDi3dF5k%2FutWajg32bB0fDMWhs%3D")
R7_QUERY = ("DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&Filters.0.Name=zone&"
            "Filters.0.Values.0=ap-guangzhou-3&Limit=20&Offset=0&ReturnBindAutoSnapshotPolicy=true&"
            "Action=DescribeDisks&RequestClient=SDK_NODEJS_4.1.313&Nonce=65164&Timestamp=1795835142&"
            "Version=2017-03-12&SecretId=AKIDprotocheck0000000000000000000000&Region=ap-guangzhou&"
            "SignatureMethod=HmacSHA1&Signature=Rzr26vF%2Bukq7BTt59OQBfQJGrMs%3D")


@pytest.mark.parametrize("method,encoded", [("POST", R6_BODY), ("GET", R7_QUERY)])
def test_captured_v1_requests_verify(method, encoded):
    params = dict(parse_qsl(encoded, keep_blank_values=True))
    assert signing.verify_v1(KEY, method=method, host="127.0.0.1:18080", params=params,
                             signature=params["Signature"],
                             signature_method=params["SignatureMethod"])
    params["Limit"] = "21"
    assert not signing.verify_v1(KEY, method=method, host="127.0.0.1:18080", params=params,
                                 signature=params["Signature"],
                                 signature_method=params["SignatureMethod"])


def test_v1_string_to_sign_of_r6():
    params = dict(parse_qsl(R6_BODY))
    assert signing.v1_string_to_sign("POST", "127.0.0.1:18080", params, skip_empty=False) == (
        "POST127.0.0.1:18080/?Action=DescribeDisks&DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890"
        "&Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=disk-usage&"
        "Filters.1.Values.0=DATA_DISK&Language=zh-CN&Limit=20&Nonce=2614390577465035474&Offset=0&"
        "Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.175&ReturnBindAutoSnapshotPolicy=True&"
        "SecretId=AKIDprotocheck0000000000000000000000&SignatureMethod=HmacSHA256&"
        "Timestamp=1795835106&Version=2017-03-12")


def test_v1_go_style_skips_empty_values():
    params = {"Action": "DescribeDisks", "Language": "", "Nonce": "1", "SecretId": SID,
              "SignatureMethod": "HmacSHA256", "Timestamp": "1795835106", "Version": "2017-03-12"}
    go_text = signing.v1_string_to_sign("GET", "127.0.0.1:1", params, skip_empty=True)
    assert "Language" not in go_text
    signature = signing.v1_signature(KEY, go_text, "HmacSHA256")
    assert signing.verify_v1(KEY, method="GET", host="127.0.0.1:1", params=params,
                             signature=signature, signature_method="HmacSHA256")


@pytest.mark.parametrize("header", [
    "TC3-HMAC-SHA256",
    "TC3-HMAC-SHA256 Credential=AKID/2026-11-28/cbs/tc3_request",
    "TC3-HMAC-SHA256 Credential=AKID/2026-11-28/cbs, SignedHeaders=content-type;host, Signature=a",
    "TC3-HMAC-SHA256 Credential=AKID/2026-11-28/cbs/tc3_request, SignedHeaders=host, Signature=a",
    "HMAC-SHA256 Credential=AKID/2026-11-28/cbs/tc3_request, SignedHeaders=content-type;host, Signature=a",
    "TC3-HMAC-SHA256 Credential, SignedHeaders, Signature",
])
def test_malformed_authorization_is_rejected(header):
    with pytest.raises(signing.MalformedAuthorization):
        signing.parse_tc3_authorization(header)


def test_authorization_is_parsed_leniently():
    parsed = signing.parse_tc3_authorization(
        "TC3-HMAC-SHA256 Credential=AKIDx/2026-11-28/localhost:9000/tc3_request,"
        "SignedHeaders=content-type;host;x-tc-action,Signature=ABCDEF")
    assert parsed.service == "localhost:9000"
    assert parsed.signed_headers == "content-type;host;x-tc-action"
    assert parsed.signature == "abcdef"


def test_host_candidates():
    assert signing.host_candidates("127.0.0.1:9000") == ["127.0.0.1:9000", "127.0.0.1"]
    assert signing.host_candidates("http://127.0.0.1:9000") == ["http://127.0.0.1:9000",
                                                                "http://127.0.0.1"]
    assert signing.host_candidates("cbs.tencentcloudapi.com") == ["cbs.tencentcloudapi.com"]


# --- the Authorization parser: linear time, and exactly the forms it always accepted -------------
SPACES = " " * 1_000_000
CREDENTIAL = "Credential=AKIDx/2026-11-28/cbs/tc3_request"
HOSTILE_AUTHORIZATIONS = {
    "spaces after Credential=": "TC3-HMAC-SHA256 Credential=" + SPACES + "x",
    "spaces before a comma": f"TC3-HMAC-SHA256 {CREDENTIAL}{SPACES}, SignedHeaders=a, Signature=b",
    "spaces after a comma": f"TC3-HMAC-SHA256 {CREDENTIAL},{SPACES}SignedHeaders=a, Signature=b",
    "spaces after the algorithm": f"TC3-HMAC-SHA256{SPACES}{CREDENTIAL}, SignedHeaders=a",
    "spaces inside every item": (f"TC3-HMAC-SHA256 Credential={SPACES}x{SPACES}, "
                                 f"SignedHeaders={SPACES}y{SPACES}, Signature={SPACES}z{SPACES}q"),
    "spaces and commas": "TC3-HMAC-SHA256 Credential=" + " ," * 500_000,
    "equal signs": "TC3-HMAC-SHA256 Credential=" + "=" * 1_000_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_AUTHORIZATIONS))
def test_authorization_parser_takes_linear_time(name):
    """A million spaces used to take minutes (a backtracking regex, quadratic), blocking the event
    loop for every client; linear parsing takes milliseconds. The bound is loose on purpose."""
    started = time.perf_counter()
    with pytest.raises(signing.MalformedAuthorization):
        signing.parse_tc3_authorization(HOSTILE_AUTHORIZATIONS[name])
    assert time.perf_counter() - started < 1.0


# The parser as it was (a regex for the SDKs' order, else items in any order): the oracle of what is
# accepted, and how, on inputs short enough for its quadratic regex.
_FORMER_SDK_ORDER = re.compile(
    r"TC3-HMAC-SHA256 +Credential=([^,]*?) *, *SignedHeaders=([^,]*?) *, *Signature=([^,]*?) *")


def _former_parse(value: str) -> signing.Tc3Authorization:
    value = value.strip()
    exact = _FORMER_SDK_ORDER.fullmatch(value)
    if exact:
        credential, signed_headers, signature = exact.groups()
    else:
        algorithm, _, rest = value.partition(" ")
        if algorithm != "TC3-HMAC-SHA256" or not rest:
            raise signing.MalformedAuthorization(msg.AUTHORIZATION_ALGORITHM)
        items: dict[str, str] = {}
        for part in rest.split(","):
            key, sep, item = part.strip().partition("=")
            if not sep:
                raise signing.MalformedAuthorization(msg.AUTHORIZATION_ITEM, item=part.strip())
            items[key] = item.strip()
        try:
            credential, signed_headers, signature = (
                items["Credential"], items["SignedHeaders"], items["Signature"])
        except KeyError as missing:
            raise signing.MalformedAuthorization(msg.AUTHORIZATION_MISSING_ITEM,
                                                 item=missing.args[0]) from None
    scope = credential.split("/")
    if len(scope) < 4 or scope[-1] != "tc3_request" or not scope[0]:
        raise signing.MalformedAuthorization(msg.AUTHORIZATION_CREDENTIAL)
    service = "/".join(scope[2:-1])
    headers = signed_headers.lower().split(";")
    if "content-type" not in headers or "host" not in headers:
        raise signing.MalformedAuthorization(msg.AUTHORIZATION_SIGNED_HEADERS)
    return signing.Tc3Authorization(scope[0], scope[1], service, signed_headers, signature.lower())


def _outcome(parse, value: str):
    try:
        return parse(value)
    except signing.MalformedAuthorization as bad:
        return f"MalformedAuthorization: {bad}"


_PIECES = ["TC3-HMAC-SHA256", "TC3-HMAC-SHA256 ", "Credential=", "SignedHeaders=", "Signature=",
           "AKIDx/2026-11-28/cbs/tc3_request", "AKIDx/2026-11-28/127/tc3_request",
           "content-type;host", "Content-Type;Host;X-TC-Action", "ABCdef012", " ", "  ", ",",
           ", ", " ,", "=", "\t", "/", "x", "é", "\u00a0"]
SDK_AUTHORIZATION = (f"TC3-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=content-type;host, "
                     "Signature=ABCdef012")


@settings(max_examples=3000, deadline=None, derandomize=True, database=None)
@given(st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=14).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=14).map(
        lambda pieces: "TC3-HMAC-SHA256 " + "".join(pieces)),
    # the SDKs' own form, with characters inserted, deleted or replaced somewhere
    st.tuples(st.integers(0, len(SDK_AUTHORIZATION)), st.integers(0, 3),
              st.sampled_from(["", " ", "  ", ",", "=", "\t", " , ", "x"])).map(
        lambda edit: SDK_AUTHORIZATION[:edit[0]] + edit[2] + SDK_AUTHORIZATION[edit[0] + edit[1]:]),
))
def test_authorization_parser_accepts_what_it_always_accepted(value):
    assert _outcome(signing.parse_tc3_authorization, value) == _outcome(_former_parse, value)


@pytest.mark.parametrize("header", [
    SDK_AUTHORIZATION,
    f"TC3-HMAC-SHA256    {CREDENTIAL} ,  SignedHeaders=content-type;host  ,Signature=ABCdef012  ",
    f"TC3-HMAC-SHA256 Signature=ABCdef012, SignedHeaders=content-type;host, {CREDENTIAL}",
    f"TC3-HMAC-SHA256 SignedHeaders= content-type;host ,{CREDENTIAL},Signature= ABCdef012",
    f"  TC3-HMAC-SHA256 {CREDENTIAL},SignedHeaders=content-type;host,Signature=ABCdef012\t",
])
def test_authorization_items_in_any_order_with_spaces(header):
    parsed = signing.parse_tc3_authorization(header)
    assert (parsed.secret_id, parsed.date, parsed.service) == ("AKIDx", "2026-11-28", "cbs")
    assert parsed.signed_headers == "content-type;host"
    assert parsed.signature == "abcdef012"


# --- signatures that are not ASCII: a mismatch, never an exception -------------------------------
@pytest.mark.parametrize("signature", ["é" * 64, "\u00ff" + "0" * 63, "\u0130", "ü"])
def test_non_ascii_tc3_signature_does_not_verify(signature):
    method, query, content_type, host, body, timestamp, service, _ = CAPTURED_TC3["R1 python POST"]
    headers = {"content-type": content_type, "host": host}
    assert not signing.verify_tc3(KEY, auth(service, signature), method=method, raw_query=query,
                                  headers=headers, body=body, timestamp=timestamp)


@pytest.mark.parametrize("signature", [
    "é", "dhgTeVu+JGrypF7dNlDi3dF5k/utWajg32bB0fDMWhé=", "\ufffd"])
def test_non_ascii_v1_signature_does_not_verify(signature):
    params = dict(parse_qsl(R6_BODY, keep_blank_values=True))
    params["Signature"] = signature
    assert not signing.verify_v1(KEY, method="POST", host="127.0.0.1:18080", params=params,
                                 signature=signature, signature_method="HmacSHA256")
