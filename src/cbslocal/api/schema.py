"""The contract layer: strict request models with the exact Tencent field names.

A decoded body becomes a typed request or one ApiError naming the field: an unknown field →
UnknownParameter, a missing one → MissingParameter, a wrong type → InvalidParameter, a value
outside its range or enum → InvalidParameterValue (cbs-behavior.md §2). Flattened GET/form values
arrive as strings: lax coercion turns "20" into 20 and "True"/"true" into True.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from cbslocal.api import messages as msg
from cbslocal.api.errors import ApiError

UINT64_MAX = 2**64 - 1
INT64_MAX = 2**63 - 1


class Request(BaseModel):
    # defer_build: each model's validator is built at its first use, not when its module is
    # imported: a server's first answer does not wait for every other action's models.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True,
                              regex_engine="python-re", defer_build=True)


def no_bool(value: Any) -> Any:
    # JSON true is not a number, even though Python says it is.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _uint64(value: int) -> int:
    if value < 0 or value > UINT64_MAX:
        raise PydanticCustomError("uint_range", "Input should be an unsigned 64-bit integer")
    return value


def _int64(value: int) -> int:
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise PydanticCustomError("int64_range", "Input should be a signed 64-bit integer")
    return value


_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _bool(value: Any) -> Any:
    """What the clients send: JSON booleans, and in flattened requests True/False (Python),
    true/false (Node, Go) or 1/0 — not pydantic's wider "yes"/"on"/"t"."""
    if isinstance(value, str):
        folded = _BOOL_TEXT.get(value.lower())
        if folded is None:
            raise PydanticCustomError("bool_parsing", "Input should be true or false")
        return folded
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def non_empty(value: list) -> list:
    # An empty list for a required list parameter is as good as missing (cbs-behavior.md §2).
    if not value:
        raise PydanticCustomError("missing", "Field required")
    return value


Bool = Annotated[bool, BeforeValidator(_bool)]
RequiredList = Annotated[list[str], AfterValidator(non_empty)]
UInt = Annotated[int, BeforeValidator(no_bool), AfterValidator(_uint64)]
Int64 = Annotated[int, BeforeValidator(no_bool), AfterValidator(_int64)]


def int_choice(*allowed: int):
    """An Int64 that must be one of `allowed` (Literal would refuse the string "1" of a GET)."""
    def check(value: int) -> int:
        if value not in allowed:
            raise PydanticCustomError("int_choice", "Input should be one of {choices}",
                                      {"choices": ", ".join(map(str, allowed))})
        return value
    return Annotated[int, BeforeValidator(no_bool), AfterValidator(_int64), AfterValidator(check)]

# What each kind of pydantic error says, from the catalog (api/messages/common.py): in order of
# priority, an unknown parameter, a missing one, one of the wrong type (InvalidParameter), a value
# not accepted (InvalidParameterValue).
_UNKNOWN = {"extra_forbidden": msg.PARAMETER_UNKNOWN}
_MISSING = {"missing": msg.PARAMETER_MISSING}
_TYPE = {
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float", "int_parsing_size"),
                    msg.TYPE_INTEGER),
    "uint_range": msg.TYPE_UINT64, "int64_range": msg.TYPE_INT64,
    **dict.fromkeys(("bool_type", "bool_parsing"), msg.TYPE_BOOLEAN),
    **dict.fromkeys(("string_type", "string_unicode", "string_sub_type", "bytes_type"),
                    msg.TYPE_STRING),
    **dict.fromkeys(("list_type", "tuple_type", "set_type", "iterable_type"), msg.TYPE_LIST),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), msg.TYPE_OBJECT),
    **dict.fromkeys(("float_type", "float_parsing"), msg.TYPE_NUMBER),
    **dict.fromkeys(("is_instance_of", "invalid_type"), msg.TYPE_WRONG),
}
# A value not accepted: the Detail and the values it takes from the error's context.
_VALUE = {
    "literal_error": (msg.VALUE_ONE_OF, lambda ctx: {"choices": _choices(ctx["expected"])}),
    "enum": (msg.VALUE_ONE_OF, lambda ctx: {"choices": _choices(ctx["expected"])}),
    "int_choice": (msg.VALUE_ONE_OF, lambda ctx: {"choices": ctx["choices"]}),
    "greater_than_equal": (msg.VALUE_AT_LEAST, lambda ctx: {"min": ctx["ge"]}),
    "greater_than": (msg.VALUE_ABOVE, lambda ctx: {"min": ctx["gt"]}),
    "less_than_equal": (msg.VALUE_AT_MOST, lambda ctx: {"max": ctx["le"]}),
    "less_than": (msg.VALUE_BELOW, lambda ctx: {"max": ctx["lt"]}),
    "string_too_short": (msg.TEXT_TOO_SHORT, lambda ctx: {"min": ctx["min_length"]}),
    "string_too_long": (msg.TEXT_TOO_LONG, lambda ctx: {"max": ctx["max_length"]}),
    "too_short": (msg.LIST_TOO_SHORT, lambda ctx: {"min": ctx["min_length"]}),
    "too_long": (msg.LIST_TOO_LONG, lambda ctx: {"max": ctx["max_length"]}),
    "string_pattern_mismatch": (msg.VALUE_FORMAT, lambda ctx: {}),
}


def _rank(problem: dict) -> int:
    kind = problem["type"]
    return 0 if kind in _UNKNOWN else 1 if kind in _MISSING else 2 if kind in _TYPE else 3


def _choices(expected: str) -> str:
    """pydantic's "'A', 'B' or 'C'" as a plain list: 'A', 'B', 'C'."""
    return ", ".join(f"'{choice}'" for choice in re.findall(r"'([^']*)'", expected)) or expected


def parse(model: type[Request], params: dict) -> Request:
    try:
        return model.model_validate(params)
    except ValidationError as failure:
        raise _to_api_error(failure) from None


def _to_api_error(failure: ValidationError) -> ApiError:
    problems = failure.errors(include_url=False, include_input=False)
    first = min(problems, key=_rank)
    field = field_path(first["loc"])
    kind = first["type"]
    simple = _UNKNOWN.get(kind) or _MISSING.get(kind) or _TYPE.get(kind)
    if simple is not None:
        return simple(field=field)
    detail, values = _VALUE.get(kind, (msg.VALUE_INVALID, lambda ctx: {}))
    return detail(field=field, **values(first.get("ctx") or {}))


def field_path(loc: tuple) -> str:
    # Tagged or wrapped validators add non-field entries such as "function-after[...]".
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function")))]
    return ".".join(parts) or "(body)"
