"""The contract layer: strict request models with the exact Tencent field names.

A decoded body becomes a typed request or one ApiError naming the field: an unknown field →
UnknownParameter, a missing one → MissingParameter, a wrong type → InvalidParameter, a value
outside its range or enum → InvalidParameterValue (cbs-behavior.md §2). Flattened GET/form values
arrive as strings: lax coercion turns "20" into 20 and "True"/"true" into True.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from cbslocal.api import errors
from cbslocal.api.errors import ApiError

UINT64_MAX = 2**64 - 1
INT64_MAX = 2**63 - 1


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True,
                              regex_engine="python-re")


def invalid_value(message: str) -> PydanticCustomError:
    """Raise from a validator: the value is well-typed but not acceptable."""
    return PydanticCustomError("invalid_value", message)


def _no_bool(value: Any) -> Any:
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


def _non_empty(value: list) -> list:
    # An empty list for a required list parameter is as good as missing (cbs-behavior.md §2).
    if not value:
        raise PydanticCustomError("missing", "Field required")
    return value


Bool = Annotated[bool, BeforeValidator(_bool)]
RequiredList = Annotated[list[str], AfterValidator(_non_empty)]
UInt = Annotated[int, BeforeValidator(_no_bool), AfterValidator(_uint64)]
Int64 = Annotated[int, BeforeValidator(_no_bool), AfterValidator(_int64)]


def int_choice(*allowed: int):
    """An Int64 that must be one of `allowed` (Literal would refuse the string "1" of a GET)."""
    def check(value: int) -> int:
        if value not in allowed:
            raise invalid_value(f"Input should be one of {', '.join(map(str, allowed))}")
        return value
    return Annotated[int, BeforeValidator(_no_bool), AfterValidator(_int64), AfterValidator(check)]

# Error types that mean "the shape is wrong" (InvalidParameter) rather than "the value is not
# allowed" (InvalidParameterValue).
_TYPE_ERRORS = {
    "int_type", "int_parsing", "int_from_float", "int_parsing_size", "bool_type", "bool_parsing",
    "string_type", "string_unicode", "list_type", "dict_type", "model_type", "model_attributes_type",
    "float_type", "float_parsing", "uint_range", "int64_range", "is_instance_of", "bytes_type",
    "string_sub_type", "iterable_type", "tuple_type", "set_type", "invalid_type",
}
_PRIORITY = {"extra_forbidden": 0, "missing": 1}


def parse(model: type[Request], params: dict) -> Request:
    try:
        return model.model_validate(params)
    except ValidationError as failure:
        raise _to_api_error(failure) from None


def _to_api_error(failure: ValidationError) -> ApiError:
    problems = failure.errors(include_url=False, include_context=False, include_input=False)
    first = min(problems, key=lambda p: _PRIORITY.get(p["type"], 2 if p["type"] in _TYPE_ERRORS else 3))
    field = field_path(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        return ApiError(errors.UNKNOWN_PARAMETER,
                        f"The parameter `{field}` is not defined for this action.",
                        f"参数 `{field}` 未定义。")
    if kind == "missing":
        return errors.missing_parameter(field)
    if kind in _TYPE_ERRORS:
        return ApiError(errors.INVALID_PARAMETER,
                        f"The parameter `{field}` has the wrong type: {first['msg']}.",
                        f"参数 `{field}` 类型错误：{first['msg']}。")
    return ApiError(errors.INVALID_PARAMETER_VALUE,
                    f"The value of `{field}` is invalid: {first['msg']}.",
                    f"参数 `{field}` 取值错误：{first['msg']}。")


def field_path(loc: tuple) -> str:
    # Tagged or wrapped validators add non-field entries such as "function-after[...]".
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function")))]
    return ".".join(parts) or "(body)"
