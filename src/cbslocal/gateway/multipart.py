"""multipart/form-data bodies (request shape C), parsed with python-multipart."""

from __future__ import annotations

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from cbslocal.api import messages as msg
from cbslocal.api.errors import Refusal

MAX_PARTS = 256


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, bytes, str]]:
    """[(field name, raw value, part Content-Type)] in body order; Refusal if malformed."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise Refusal(msg.MULTIPART_NO_BOUNDARY)
    if not body.rstrip(b"\r\n").endswith(b"--" + boundary + b"--"):
        raise Refusal(msg.MULTIPART_UNCLOSED)
    parts: list[dict] = []
    header: dict = {}

    def on_part_begin():
        if len(parts) >= MAX_PARTS:
            raise Refusal(msg.MULTIPART_TOO_MANY_PARTS, limit=MAX_PARTS)
        parts.append({"headers": {}, "data": bytearray()})

    def on_header_field(data, start, end):
        header["field"] = header.get("field", b"") + data[start:end]

    def on_header_value(data, start, end):
        header["value"] = header.get("value", b"") + data[start:end]

    def on_header_end():
        name = header.pop("field", b"").decode("latin-1").strip().lower()
        parts[-1]["headers"][name] = header.pop("value", b"").decode("latin-1").strip()

    def on_part_data(data, start, end):
        parts[-1]["data"] += data[start:end]

    try:  # (the parser refuses some boundaries itself, e.g. one over 256 bytes)
        parser = MultipartParser(boundary, {
            "on_part_begin": on_part_begin, "on_header_field": on_header_field,
            "on_header_value": on_header_value, "on_header_end": on_header_end,
            "on_part_data": on_part_data})
        parser.write(body)
        parser.finalize()
    except FormParserError:
        raise Refusal(msg.MULTIPART_UNPARSABLE) from None
    fields = []
    for part in parts:
        _, disposition = parse_options_header(part["headers"].get("content-disposition", ""))
        name = disposition.get(b"name")
        if not name:
            raise Refusal(msg.MULTIPART_UNNAMED_PART)
        fields.append((name.decode("utf-8", "replace"), bytes(part["data"]),
                       part["headers"].get("content-type", "").lower()))
    return fields
