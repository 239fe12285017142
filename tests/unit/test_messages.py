"""Messages are data (api/messages/): every template is written out in full in each language, and
no code writes a sentence of its own."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from cbslocal.api import errors
from cbslocal.api import messages as msg
from cbslocal.api.errors import ApiError

SRC = Path(__file__).resolve().parents[2] / "src" / "cbslocal"
CATALOG = (SRC / "api" / "errors.py", *sorted((SRC / "api" / "messages").glob("*.py")))
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
# Foreign text a zh-CN message may hold besides what is quoted: the words Chinese technical
# writing keeps in Latin letters (the vendor's own zh-CN pages write them so).
KEPT_IN_LATIN = {"ID", "ASCII", "GiB", "MiB", "TiB", "SSD", "ISO", "UTC", "IP", "Unix"}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _unquoted(template: str) -> str:
    """The template's own words: placeholders and `quoted` names left out."""
    without_fields = re.sub(r"\{[^{}]*\}", " ", template)
    return re.sub(r"`[^`]*`", " ", without_fields)


DETAILS = errors.all_details()


def test_the_catalog_is_gathered():
    assert len(DETAILS) > 30
    assert msg.PARAMETER_MISSING in DETAILS


@pytest.mark.parametrize("detail", DETAILS, ids=lambda d: d.en[:40])
def test_each_template_is_whole_in_its_language(detail):
    assert _fields(detail.en) == _fields(detail.zh), "both languages take the same values"
    assert not CJK.search(_unquoted(detail.en)), "no Chinese in en-US"
    foreign = set(LATIN_WORD.findall(_unquoted(detail.zh))) - KEPT_IN_LATIN
    assert not foreign, f"English in zh-CN: {sorted(foreign)}"
    assert detail.en[0].isupper() or detail.en[0] in "`{", detail.en


def test_a_name_is_defined_once():
    names = [name for area in msg.AREAS for name in vars(area) if name.isupper()]
    assert len(names) == len(set(names))


def test_an_error_renders_in_the_callers_language():
    failure = msg.VALUE_AT_MOST(field="Limit", max=100)
    assert failure.code == "InvalidParameterValue"
    assert failure.message("zh-CN") == "参数取值错误。 参数 `Limit` 不能大于 100。"
    assert failure.message("en-US") == "Invalid parameter value. `Limit` must be at most 100."


def _source_files():
    return [path for path in sorted(SRC.rglob("*.py"))
            if path not in CATALOG and "migrations" not in path.parts]


def _string_parts(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    return []


def test_no_message_is_written_outside_the_catalog():
    """No Chinese text outside the catalog, and no ApiError built from a sentence."""
    found = []
    for path in _source_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', '?')}"
            if any(CJK.search(part) for part in _string_parts(node)):
                found.append(f"{where}: Chinese text")
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(
                    node.func, "attr", None)) == "ApiError":
                if any(_string_parts(arg) for arg in node.args[1:]):
                    found.append(f"{where}: ApiError with a sentence")
    assert found == []


def test_the_source_scan_sees_a_sentence(tmp_path):
    tree = ast.parse('raise ApiError(errors.X, f"The disk {d} is gone.", "云硬盘不存在")')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert _string_parts(call.args[1]) and CJK.search(_string_parts(call.args[2])[0])


def test_an_operator_message_replaces_the_catalog_text():
    failure = ApiError(errors.INTERNAL_ERROR, message="disk backend on fire")
    assert failure.message("zh-CN") == failure.message("en-US") == "disk backend on fire"


BASE_CREATE = {"Placement": {"Zone": "ap-guangzhou-3"}, "DiskChargeType": "POSTPAID_BY_HOUR",
               "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}


def _rendered_words(text: str) -> set[str]:
    """Latin words of a rendered message, beyond `quoted` names and 'quoted' values."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"'[^']*'", " ", text)
    return set(LATIN_WORD.findall(text)) - KEPT_IN_LATIN


@pytest.mark.parametrize("kind, params", [
    ("unknown", {**BASE_CREATE, "Colour": 1}),
    ("missing", {"DiskType": "CLOUD_PREMIUM"}),
    ("integer", {**BASE_CREATE, "DiskSize": "fifty"}),
    ("unsigned", {**BASE_CREATE, "DiskSize": -10}),
    ("boolean", {**BASE_CREATE, "Shareable": "maybe"}),
    ("string", {**BASE_CREATE, "DiskName": 5}),
    ("list", {**BASE_CREATE, "Tags": {"Key": "k"}}),
    ("object", {**BASE_CREATE, "Placement": "ap-guangzhou-3"}),
    ("enum", {**BASE_CREATE, "DiskChargeType": "MONTHLY"}),
    ("choice", {**BASE_CREATE, "DeleteSnapshot": 2}),
])
def test_validation_failures_speak_the_callers_language(kind, params):
    from cbslocal.api.cbs_schema import CreateDisksRequest
    from cbslocal.api.schema import parse

    with pytest.raises(ApiError) as caught:
        parse(CreateDisksRequest, params)
    failure = caught.value
    zh, en = failure.message("zh-CN"), failure.message("en-US")
    assert failure.detail is not None, "rendered from a template"
    assert not CJK.search(en), en
    assert not _rendered_words(zh.removeprefix(failure.error.zh)), zh
