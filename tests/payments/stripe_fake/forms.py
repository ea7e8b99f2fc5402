"""Stripe's form encoding: `metadata[order]=1`, `expand[0]=latest_charge` (what stripe-python
sends), `expand[]=customer` (curl style), `items[0][price]=x`; and typed reads of the result
that fail the way Stripe does (`Invalid integer: abc`, `Missing required param: amount.`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import invalid, missing_param, unknown_param

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def _key_path(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_KEY_PART.findall("[" + rest)]


def _listify(node: Any, *, keep_dict: bool) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value, keep_dict=False) for key, value in node.items()}
    keys = list(converted)
    if not keep_dict and keys and all(key.isdigit() for key in keys):
        return [converted[key] for key in sorted(keys, key=int)]
    return converted


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest bracketed keys; a dict whose keys are all indices becomes a list (metadata keeps
    its keys whatever they look like)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = _key_path(key)
        node = root
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
                break
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
    return {key: _listify(value, keep_dict=key == "metadata") for key, value in root.items()}


def _name(path: tuple[str, ...]) -> str:
    return path[0] + "".join(f"[{part}]" for part in path[1:])


class Params:
    """Typed access to one request's parameters; `name` may be nested: `("transfer_data",
    "destination")`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def raw(self, *path: str) -> Any:
        node: Any = self.data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def string(
        self,
        *path: str,
        required: bool = False,
        choices: Iterable[str] | None = None,
        max_length: int = 5000,
    ) -> str | None:
        value = self.raw(*path)
        if value is None or value == "":
            if required:
                raise missing_param(_name(path))
            return None
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {value!r}", param=_name(path))
        if len(value) > max_length:
            raise invalid(
                f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
                param=_name(path),
            )
        if choices is not None:
            allowed = sorted(choices)
            if value not in allowed:
                raise invalid(
                    f"Invalid {_name(path)}: must be one of {', '.join(allowed)}",
                    param=_name(path),
                )
        return value

    def integer(self, *path: str, required: bool = False, minimum: int | None = None) -> int | None:
        value = self.raw(*path)
        if value is None or value == "":
            if required:
                raise missing_param(_name(path))
            return None
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise invalid(
                f"Invalid integer: {value}", param=_name(path), code="parameter_invalid_integer"
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid(
                f"This value must be greater than or equal to {minimum}.", param=_name(path)
            )
        return number

    def boolean(self, *path: str) -> bool | None:
        value = self.raw(*path)
        if value is None or value == "":
            return None
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=_name(path))
        return value == "true"

    def mapping(self, *path: str, allowed: Iterable[str]) -> dict[str, Any] | None:
        value = self.raw(*path)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {_name(path)} must be a hash", param=_name(path))
        allowed_keys = set(allowed)
        for key in value:
            if key not in allowed_keys:
                raise unknown_param(_name((*path, key)))
        return value

    def string_list(self, *path: str) -> list[str]:
        value = self.raw(*path)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid(f"Invalid array: {_name(path)}", param=_name(path))
        return value

    def metadata(self) -> dict[str, str] | None:
        """The metadata update: None when absent, {} to clear (`metadata=`), else the keys,
        where an empty value removes that key."""
        if "metadata" not in self.data:
            return None
        value = self.data["metadata"]
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise invalid("Invalid object: metadata must be a hash", param="metadata")
        if len(value) > 50:
            raise invalid("Invalid metadata: at most 50 keys are allowed", param="metadata")
        for key, item in value.items():
            if not isinstance(item, str):
                raise invalid(f"Invalid metadata value for {key}", param=f"metadata[{key}]")
            if len(key) > 40:
                raise invalid(
                    f"Invalid metadata key: {key} is longer than 40 characters",
                    param=f"metadata[{key}]",
                )
            if len(item) > 500:
                raise invalid(
                    f"Invalid metadata value for {key}: longer than 500 characters",
                    param=f"metadata[{key}]",
                )
        return value


def apply_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    if update is None:
        return current
    if update == {}:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
