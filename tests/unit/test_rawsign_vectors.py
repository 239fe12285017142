"""The test-side signer (tests/e2e/rawsign.py) reproduces the signatures protocol.md documents:
the §4.6 TC3 vector (request R1), the other captured TC3 requests (R2 GET, R3 tccli, R4/R5 Node),
and the §5 v1 vectors (R6 HmacSHA256 POST, R7 Node HmacSHA1 GET)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from tests.e2e import rawsign

SECRET_ID = "AKIDprotocheck0000000000000000000000"
SECRET_KEY = "protoCheckSecretKey0000000000000000"
HOST = "127.0.0.1:18080"

R1_BODY = (b'{"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}, {"Name": "disk-usage", '
           b'"Values": ["DATA_DISK"]}], "Limit": 20, "Offset": 0, "ReturnBindAutoSnapshotPolicy": '
           b'true, "DiskIds": ["disk-abc12345", "disk-def67890"]}')
R1_PARAMS = {"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]},
                         {"Name": "disk-usage", "Values": ["DATA_DISK"]}],
             "Limit": 20, "Offset": 0, "ReturnBindAutoSnapshotPolicy": True,
             "DiskIds": ["disk-abc12345", "disk-def67890"]}
R2_QUERY = ("Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=disk-usage&"
            "Filters.1.Values.0=DATA_DISK&Limit=20&Offset=0&ReturnBindAutoSnapshotPolicy=True&"
            "DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890")


def _authorization(signature: str, service: str = "cbs", date: str = "2026-11-28") -> str:
    return (f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/{service}/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}")


# --- §4.6: every intermediate value of the TC3 vector ---------------------------------------
def test_r1_body_is_the_python_sdk_serialisation():
    assert len(R1_BODY) == 221
    assert rawsign.json_body(R1_PARAMS) == R1_BODY
    assert rawsign.sha256_hex(R1_BODY) == (
        "82b13be67010b206be38c71d8f5f01027686a37d4e5c1fb6d65a1d5ea148a1b2")


def test_tc3_vector_step_by_step():
    canonical = rawsign.tc3_canonical_request(
        method="POST", raw_query="",
        signed_headers=[("content-type", "application/json"), ("host", HOST)],
        payload_hash=rawsign.sha256_hex(R1_BODY))
    assert canonical == ("POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:18080\n\n"
                         "content-type;host\n"
                         "82b13be67010b206be38c71d8f5f01027686a37d4e5c1fb6d65a1d5ea148a1b2")
    assert rawsign.utc_date(1795835105) == "2026-11-28"
    sts = rawsign.tc3_string_to_sign(timestamp=1795835105, date="2026-11-28", service="cbs",
                                     canonical_request=canonical)
    assert sts == ("TC3-HMAC-SHA256\n1795835105\n2026-11-28/cbs/tc3_request\n"
                   "602d295bfd77770aea2cb371f96e01fda9b15af6f6611e203fe35d4197e89a79")
    assert rawsign.tc3_signature(SECRET_KEY, date="2026-11-28", service="cbs",
                                 string_to_sign=sts) == (
        "e13dec538df14823eece747126e03c5378d6b6c0df35c7e54b1c655fe3b980da")


def test_tc3_r1_whole_request():
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks",
                         params=R1_PARAMS, timestamp=1795835105, language="zh-CN")
    method, path, headers, body = signed
    assert (method, path, body) == ("POST", "/", R1_BODY)
    assert headers["Authorization"] == _authorization(
        "e13dec538df14823eece747126e03c5378d6b6c0df35c7e54b1c655fe3b980da")
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == HOST
    assert {k: headers[k] for k in ("X-TC-Action", "X-TC-Timestamp", "X-TC-Version",
                                     "X-TC-Region", "X-TC-Language")} == {
        "X-TC-Action": "DescribeDisks", "X-TC-Timestamp": "1795835105",
        "X-TC-Version": "2017-03-12", "X-TC-Region": "ap-guangzhou", "X-TC-Language": "zh-CN"}
    # The same with the body given as raw bytes.
    raw = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", body=R1_BODY,
                      timestamp=1795835105)
    assert raw.headers["Authorization"] == headers["Authorization"]


def test_tc3_r2_get_raw_query():
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", method="GET",
                         params=R1_PARAMS, timestamp=1795835105)
    assert signed.path == "/?" + R2_QUERY  # the Python SDK's flattening, in insertion order
    assert signed.body == b""
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed.headers["Authorization"] == _authorization(
        "a22f8f6298e44cf4445d75993b39ae55ce2a89e7f702f73aa3cd1d225515180a")
    verbatim = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", method="GET",
                           raw_query=R2_QUERY, timestamp=1795835105)
    assert verbatim == signed


def test_tc3_r3_tccli_host_with_scheme():
    body = b'{"Limit": 10, "DiskIds": ["disk-abc12345"]}'
    assert len(body) == 43
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host="http://127.0.0.1:18080",
                         action="DescribeDisks", params={"Limit": 10, "DiskIds": ["disk-abc12345"]},
                         timestamp=1795835117)
    assert signed.body == body
    assert signed.headers["Authorization"] == _authorization(
        "3de0549599f0c583c6554e2b88327252812546a97f51152bd56e4a3acefdf7f7")


def test_tc3_r4_node_post_host_without_port_service_127():
    body = (b'{"DiskIds":["disk-abc12345","disk-def67890"],"Filters":[{"Name":"zone","Values":'
            b'["ap-guangzhou-3"]}],"Limit":20,"Offset":0,"ReturnBindAutoSnapshotPolicy":true}')
    assert len(body) == 159
    assert rawsign.sha256_hex(body).startswith("f162b16e")
    assert rawsign.sha256_hex(body).endswith("226a")
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, signed_host="127.0.0.1", service="127",
                         action="DescribeDisks", body=body, timestamp=1795835141)
    assert signed.headers["Host"] == HOST
    assert signed.headers["Authorization"] == _authorization(
        "953b0b28a1815fabe256352c4c99d99e9cf79cca81d6f51f2a7cf14408397ee4", service="127")


def test_tc3_r5_node_get():
    query = ("DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&Filters.0.Name=zone&"
             "Filters.0.Values.0=ap-guangzhou-3&Limit=20&Offset=0&"
             "ReturnBindAutoSnapshotPolicy=true")
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, signed_host="127.0.0.1", service="127",
                         action="DescribeDisks", method="GET", raw_query=query,
                         timestamp=1795835141)
    assert signed.path == "/?" + query
    assert signed.headers["Authorization"] == _authorization(
        "c2c12342f3d8fc98305a5a8884a0d88429a621a080561eb8378ec52c508697d9", service="127")


def test_tc3_unsigned_payload_hashes_the_literal():
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks",
                         params=R1_PARAMS, timestamp=1795835105, unsigned_payload=True)
    assert signed.headers["X-TC-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    canonical = rawsign.tc3_canonical_request(
        method="POST", raw_query="",
        signed_headers=[("content-type", "application/json"), ("host", HOST)],
        payload_hash=rawsign.sha256_hex("UNSIGNED-PAYLOAD"))
    sts = rawsign.tc3_string_to_sign(timestamp=1795835105, date="2026-11-28", service="cbs",
                                     canonical_request=canonical)
    expected = rawsign.tc3_signature(SECRET_KEY, date="2026-11-28", service="cbs",
                                     string_to_sign=sts)
    assert signed.headers["Authorization"] == _authorization(expected)
    assert expected != "e13dec538df14823eece747126e03c5378d6b6c0df35c7e54b1c655fe3b980da"


def test_multipart_matches_the_r8_shape():
    body, content_type = rawsign.multipart_body(
        {"Limit": "20", "DiskIds": ["disk-abc12345"]}, boundary="405508d6c340430bbd9441107941e4ac")
    assert content_type == "multipart/form-data; boundary=405508d6c340430bbd9441107941e4ac"
    assert len(body) == 263
    assert body == (
        b'--405508d6c340430bbd9441107941e4ac\r\n'
        b'Content-Disposition: form-data; name="Limit"\r\n\r\n20\r\n'
        b'--405508d6c340430bbd9441107941e4ac\r\n'
        b'Content-Disposition: form-data; name="DiskIds"\r\n'
        b'Content-Type: application/json\r\n\r\n["disk-abc12345"]\r\n'
        b'--405508d6c340430bbd9441107941e4ac--\r\n')
    signed = rawsign.tc3(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", multipart=True,
                         params={"Limit": "20", "DiskIds": ["disk-abc12345"]},
                         boundary="405508d6c340430bbd9441107941e4ac", timestamp=1795835105)
    assert signed.body == body
    assert signed.headers["Content-Type"] == content_type
    canonical = rawsign.tc3_canonical_request(
        method="POST", raw_query="",
        signed_headers=[("content-type", content_type), ("host", HOST)],
        payload_hash=rawsign.sha256_hex(body))
    assert canonical.split("\n")[3] == f"content-type:{content_type}"


# --- §5: signature v1 ------------------------------------------------------------------------
R6_STRING_TO_SIGN = (
    "POST127.0.0.1:18080/?Action=DescribeDisks&DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&"
    "Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=disk-usage&"
    "Filters.1.Values.0=DATA_DISK&Language=zh-CN&Limit=20&Nonce=2614390577465035474&Offset=0&"
    "Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.175&ReturnBindAutoSnapshotPolicy=True&"
    "SecretId=AKIDprotocheck0000000000000000000000&SignatureMethod=HmacSHA256&"
    "Timestamp=1795835106&Version=2017-03-12")
R6_BODY = (
    b"Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=disk-usage&"
    b"Filters.1.Values.0=DATA_DISK&Limit=20&Offset=0&ReturnBindAutoSnapshotPolicy=True&"
    b"DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&Action=DescribeDisks&"
    b"RequestClient=SDK_PYTHON_3.1.175&Nonce=2614390577465035474&Timestamp=1795835106&"
    b"Version=2017-03-12&Region=ap-guangzhou&SecretId=AKIDprotocheck0000000000000000000000&"
    b"SignatureMethod=HmacSHA256&Language=zh-CN&"
    b"Signature=dhgTeVu%2BJGrypF7dNlDi3dF5k%2FutWajg32bB0fDMWhs%3D")


def test_v1_hmacsha256_vector():
    params = dict(parse_qsl(R6_BODY.decode()))
    assert rawsign.v1_string_to_sign("POST", HOST, params) == R6_STRING_TO_SIGN
    assert rawsign.v1_signature(SECRET_KEY, R6_STRING_TO_SIGN, "HmacSHA256") == (
        "dhgTeVu+JGrypF7dNlDi3dF5k/utWajg32bB0fDMWhs=")


def test_v1_r6_whole_post_request():
    signed = rawsign.v1(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", method="POST",
                        params=R1_PARAMS, timestamp=1795835106, nonce=2614390577465035474,
                        language="zh-CN")
    assert len(R6_BODY) == 497
    assert signed == ("POST", "/", {"Host": HOST,
                                    "Content-Type": "application/x-www-form-urlencoded"}, R6_BODY)
    get = rawsign.v1(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", method="GET",
                     params=R1_PARAMS, timestamp=1795835106, nonce=2614390577465035474,
                     language="zh-CN")
    assert get.body == b""
    params = dict(parse_qsl(get.path[2:]))
    assert rawsign.v1_signature(SECRET_KEY, "GET" + R6_STRING_TO_SIGN[4:]) == params["Signature"]


def test_v1_r7_node_hmacsha1_get():
    query = ("DiskIds.0=disk-abc12345&DiskIds.1=disk-def67890&Filters.0.Name=zone&"
             "Filters.0.Values.0=ap-guangzhou-3&Limit=20&Offset=0&"
             "ReturnBindAutoSnapshotPolicy=true&"
             "Action=DescribeDisks&RequestClient=SDK_NODEJS_4.1.313&Nonce=65164&"
             "Timestamp=1795835142&Version=2017-03-12&"
             "SecretId=AKIDprotocheck0000000000000000000000&"
             "Region=ap-guangzhou&SignatureMethod=HmacSHA1&"
             "Signature=Rzr26vF%2Bukq7BTt59OQBfQJGrMs%3D")
    params = dict(parse_qsl(query))
    sts = rawsign.v1_string_to_sign("GET", HOST, params)
    assert sts.startswith("GET127.0.0.1:18080/?Action=DescribeDisks&DiskIds.0=")
    assert sts.endswith("&Version=2017-03-12")
    assert rawsign.v1_signature(SECRET_KEY, sts, "HmacSHA1") == "Rzr26vF+ukq7BTt59OQBfQJGrMs="
    # Rebuilt by v1() from the business pairs, with Node's parameter set (no Language).
    business = [(k, v) for k, v in parse_qsl(query) if k not in {
        "Action", "RequestClient", "Nonce", "Timestamp", "Version", "SecretId", "Region",
        "SignatureMethod", "Signature"}]
    signed = rawsign.v1(SECRET_ID, SECRET_KEY, host=HOST, action="DescribeDisks", pairs=business,
                        sign_method="HmacSHA1", timestamp=1795835142, nonce=65164,
                        content_type=rawsign.OMIT)
    assert "Content-Type" not in signed.headers
    rebuilt = dict(parse_qsl(signed.path[2:]))
    rebuilt.pop("Signature")
    rebuilt["RequestClient"] = "SDK_NODEJS_4.1.313"  # the only difference from Node's set
    assert rawsign.v1_signature(SECRET_KEY, rawsign.v1_string_to_sign("GET", HOST, rebuilt),
                                "HmacSHA1") == "Rzr26vF+ukq7BTt59OQBfQJGrMs="


def test_v1_underscore_becomes_dot_in_the_string_to_sign_only():
    assert rawsign.v1_string_to_sign("GET", "h", {"A_b": "1", "Signature": "x"}) == "GETh/?A.b=1"


def test_flatten_and_urlencode_like_the_python_sdk():
    assert rawsign.flatten({"A": [{"B": 1, "C": None}], "D": False, "E": {"F": "x y"}}) == [
        ("A.0.B", "1"), ("D", "False"), ("E.F", "x y")]
    assert rawsign.urlencode([("k", "a b/测试 'x'*~+&=%")]) == (
        "k=a+b%2F%E6%B5%8B%E8%AF%95+%27x%27%2A~%2B%26%3D%25")
