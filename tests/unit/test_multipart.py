from __future__ import annotations

import pytest

from cbslocal.gateway.multipart import parse_multipart

CT = "multipart/form-data; boundary=405508d6c340430bbd9441107941e4ac"
R8 = (b'--405508d6c340430bbd9441107941e4ac\r\nContent-Disposition: form-data; name="Limit"\r\n\r\n'
      b'20\r\n--405508d6c340430bbd9441107941e4ac\r\nContent-Disposition: form-data; name="DiskIds"\r\n'
      b'Content-Type: application/json\r\n\r\n["disk-abc12345"]\r\n'
      b'--405508d6c340430bbd9441107941e4ac--\r\n')


def test_the_python_sdk_body_of_protocol_md():
    assert parse_multipart(R8, CT) == [("Limit", b"20", ""),
                                       ("DiskIds", b'["disk-abc12345"]', "application/json")]


@pytest.mark.parametrize("body,content_type", [
    (b"", CT), (R8[:-40], CT), (R8, "multipart/form-data"),
    (b'--405508d6c340430bbd9441107941e4ac\r\nContent-Disposition: form-data\r\n\r\nx\r\n'
     b'--405508d6c340430bbd9441107941e4ac--\r\n', CT),
])
def test_malformed_bodies(body, content_type):
    with pytest.raises(ValueError):
        parse_multipart(body, content_type)


def test_a_boundary_the_parser_refuses_is_a_refusal_with_its_message():
    from cbslocal.api.errors import Refusal

    boundary = "b" * 300
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"Limit\"\r\n\r\n20\r\n"
            f"--{boundary}--\r\n").encode()
    with pytest.raises(Refusal) as refused:
        parse_multipart(body, f"multipart/form-data; boundary={boundary}")
    assert refused.value.api_error().code == "InvalidParameter"
