"""The catalog holds exactly the seed's codes, with the seed's own Chinese text."""

from __future__ import annotations

import re
from pathlib import Path

from cbslocal.api import errors

REPO = Path(__file__).resolve().parents[2]
SEED_COPY = REPO / "tests/data/seed-error-codes.md"
SEED_SHARED = REPO.parent / "shared/reference/seed-error-codes.md"
ROW = re.compile(r"^\|\s*([A-Za-z][A-Za-z.]+)\s*\|\s*(.+?)\s*\|\s*$")


def seed_rows(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match and match.group(1) != "错误码":
            rows.append((match.group(1), match.group(2)))
    return rows


def test_the_copy_in_the_repo_is_the_seed_document():
    if SEED_SHARED.exists():  # beside a checkout of the project's shared folder
        assert SEED_COPY.read_text(encoding="utf-8") == SEED_SHARED.read_text(encoding="utf-8")


def test_catalog_has_exactly_the_seed_codes():
    rows = seed_rows(SEED_COPY)
    assert len(rows) == 70  # 26 public + 44 business rows
    seed_codes = {code for code, _ in rows}
    assert len(seed_codes) == 65
    assert set(errors.all_codes()) == seed_codes


def test_chinese_messages_are_the_seed_text():
    texts: dict[str, set[str]] = {}
    for code, text in seed_rows(SEED_COPY):
        texts.setdefault(code, set()).add(text.strip())
    for code, entry in errors.all_codes().items():
        # A code listed in both tables may use either of its two seed texts.
        normalised = {t.rstrip("。") for t in texts[code]}
        assert entry.zh.rstrip("。") in normalised, code
        assert entry.en and entry.en[0].isupper(), code


def test_api_error_message_follows_language():
    from cbslocal.api import messages as msg

    failure = msg.FILTER_UNSUPPORTED(name="x", action="DescribeDisks")
    assert failure.code == "InvalidFilter"
    assert failure.message("en-US") == ("The specified filter is not supported. The filter 'x' is "
                                        "not supported by DescribeDisks.")
    assert failure.message("zh-CN") == "指定的Filter不被支持。 接口 DescribeDisks 不支持过滤条件 'x'。"


def test_cvm_codes_are_the_cvm_sdks_own():
    """The CVM actions answer with CVM's codes: each one exists in the official CVM SDK, and none
    is confused with a seed code."""
    from tencentcloud.cvm.v20170312 import errorcodes

    official = {value for name, value in vars(errorcodes).items() if name.isupper()}
    assert set(errors.cvm_codes()) <= official
    assert not set(errors.cvm_codes()) & set(errors.all_codes())


def test_common_codes_beyond_the_seed_stay_apart():
    """Common framework codes the seed does not list (protocol.md §9) live in their own catalog:
    the CBS catalog stays exactly the seed's, and no code is in two catalogs."""
    common = errors.common_codes()
    assert common["RequestSizeLimitExceeded"] is errors.REQUEST_SIZE_LIMIT_EXCEEDED
    assert errors.REQUEST_SIZE_LIMIT_EXCEEDED.zh == "请求包超过限制大小。"
    assert errors.REQUEST_SIZE_LIMIT_EXCEEDED.en == "The request size exceeds the upper limit."
    assert not set(common) & set(errors.all_codes())
    assert not set(common) & set(errors.cvm_codes())
