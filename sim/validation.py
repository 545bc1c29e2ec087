"""Validation errors as one line per problem: the file, the dotted key and what is allowed.

``format_validation_error(source, error, model)`` turns a pydantic ``ValidationError`` of a
scenario or factory file into lines like::

    jiangsu.toml: key 'population.firms': Input should be a valid integer; allowed: a whole
    number >= 1 and <= 5000000; got 2.5
    jiangsu.toml: unknown key 'ets.price_cny'; allowed keys here: price_cny_per_tco2, ...
    (did you mean 'price_cny_per_tco2'?)

What is allowed is read from the model's JSON schema at the key's place (type, bounds, choices),
so every message carries it without a table of texts to keep in step with the schema.
"""
from __future__ import annotations

import datetime
import difflib
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

GOT_CHARS = 60          # longest 'got ...' shown (a whole table is never echoed)


@cache
def _schema(model: type[BaseModel]) -> dict:
    return model.model_json_schema()


def _deref(node, root: dict):
    while isinstance(node, dict) and "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _options(node: dict, root: dict) -> list[dict]:
    """The non-null alternatives of ``node`` (``X | None`` is X: the key may be left out)."""
    node = _deref(node, root)
    alts = node.get("anyOf") or node.get("oneOf")
    if not alts:
        return [node]
    return [_deref(a, root) for a in alts if _deref(a, root).get("type") != "null"] or [node]


def schema_at(model: type[BaseModel], loc: tuple) -> dict | None:
    """The JSON-schema node of the value at ``loc`` (``None`` when the path leaves the schema)."""
    root = _schema(model)
    node: dict | None = root
    for part in loc:
        if not isinstance(node, dict):        # None, or ``true`` for a value of any type
            return None
        nxt = None
        for opt in _options(node, root):
            props = opt.get("properties") or {}
            if isinstance(part, str) and part in props:
                nxt = props[part]
            elif opt.get("type") == "object" and isinstance(opt.get("additionalProperties"), dict):
                nxt = opt["additionalProperties"]
            elif opt.get("type") == "array" and isinstance(opt.get("items"), dict):
                nxt = opt["items"]
            if nxt is not None:
                break
        node = nxt
    return _deref(node, root) if isinstance(node, dict) else None


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _bounds(node: dict) -> str:
    parts = [f"{sym} {_num(node[k])}" for k, sym in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                     ("maximum", "<="), ("exclusiveMaximum", "<"))
             if k in node]
    return " and ".join(parts)


def describe_allowed(node: dict | None, root_model: type[BaseModel]) -> str:
    """'a whole number >= 1 and <= 5000000', 'one of "a", "b"', 'a table of ...' ..."""
    if not isinstance(node, dict):           # None, or ``true``: any value
        return ""
    root = _schema(root_model)
    texts = []
    for opt in _options(node, root):
        if "enum" in opt or "const" in opt:
            values = opt.get("enum", [opt.get("const")])
            texts.append("one of " + ", ".join(f'"{v}"' if isinstance(v, str) else str(v).lower()
                                               for v in values))
            continue
        kind = opt.get("type")
        bounds = _bounds(opt)
        if kind == "integer":
            texts.append("a whole number" + (f" {bounds}" if bounds else ""))
        elif kind == "number":
            texts.append("a finite number" + (f" {bounds}" if bounds else ""))
        elif kind == "boolean":
            texts.append("true or false")
        elif kind == "string":
            texts.append("a string (in quotes)")
        elif kind == "array":
            inner = describe_allowed(_deref(opt.get("items", {}), root), root_model)
            texts.append("a list" + (f" of {_plural(inner)}" if inner else ""))
        elif kind == "object":
            if opt.get("properties"):
                texts.append("a table with keys " + ", ".join(opt["properties"]))
            else:
                inner = describe_allowed(_deref(opt.get("additionalProperties"), root),
                                         root_model)
                texts.append("a table" + (f" of {_plural(inner)}" if inner else ""))
    return " or ".join(t for t in texts if t)


def _plural(text: str) -> str:
    for a, b in (("a whole number", "whole numbers"), ("a finite number", "finite numbers"),
                 ("a string (in quotes)", "strings (in quotes)"), ("a table", "tables"),
                 ("a list", "lists")):
        if text.startswith(a):
            return b + text[len(a):]
    return text


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Key names the table at ``loc`` accepts."""
    node = schema_at(model, loc)
    if node is None:
        return []
    keys: list[str] = []
    for opt in _options(node, _schema(model)):
        keys += list(opt.get("properties") or {})
    return keys


def near_keys(key: str, keys: list[str]) -> str:
    """' (did you mean 'x'?)' for a key close to one of ``keys``."""
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def short(value: Any) -> str:
    """``value`` as TOML would show it (``true``, a date), cut to ``GOT_CHARS`` characters."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (datetime.date, datetime.time)):
        return f"{value.isoformat()} (a TOML date or time)"
    text = repr(value)
    return text if len(text) <= GOT_CHARS else text[:GOT_CHARS - 4] + " ..."


def _key_text(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def format_validation_error(source: str, e: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem: 'FILE: key 'a.b': what is wrong; allowed: ...; got ...'."""
    lines = []
    for err in e.errors():
        loc = tuple(err["loc"])
        if loc and loc[-1] == "[key]":
            key = _key_text(loc[:-1])
            lines.append(f"{source}: key '{key}': not a year; allowed: years from 2000 to 2100 "
                         f"as keys (2030 = ...); got {short(err.get('input'))}")
            continue
        key = _key_text(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            keys = allowed_keys(model, loc[:-1])
            lines.append(f"{source}: unknown key '{key}'; allowed keys here: "
                         f"{', '.join(keys) or 'none'}{near_keys(str(loc[-1]), keys)}")
            continue
        if kind == "value_error":
            lines.append(f"{source}: key '{key}': "
                         f"{str(err['msg']).removeprefix('Value error, ')}")
            continue
        allowed = describe_allowed(schema_at(model, loc), model)
        msg = "missing" if kind == "missing" else err["msg"]
        text = f"{source}: key '{key}': {msg}"
        if allowed:
            text += f"; allowed: {allowed}"
        if kind != "missing":
            text += f"; got {short(err.get('input'))}"
        lines.append(text)
    return "\n".join(lines)
