"""Scenarios: TOML files with inheritance, validated once on load.

``Scenario.load("baseline")`` reads a packaged scenario (``sim/scenarios/*.toml``) or a path;
``extends = "NAME"`` merges the file over its parent (tables merge key by key, everything else is
replaced). ``scenario.replace({"ets.price_cny_per_tco2": {2030: 150}})`` returns a new, re-validated
scenario. Every problem raises ``ScenarioError`` naming the file, the key and what is allowed.
"""
from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from zcf.sim.datasets import DefaultData, load_data
from zcf.sim.errors import DataError, InputError
from zcf.sim.schema import DataFiles, ScenarioModel


class ScenarioError(InputError):
    """A scenario or factory file that cannot be used; the message names file, key and range."""


def packaged_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = resources.files("zcf.sim").joinpath("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _packaged_path(name: str) -> Path:
    return Path(str(resources.files("zcf.sim").joinpath("scenarios", f"{name}.toml")))


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` merged into a copy of ``base``: tables merge, other values replace."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(ref: str, relative_to: Path | None) -> Path:
    if relative_to is not None:
        cand = (relative_to.parent / ref)
        for c in (cand, cand.with_suffix(".toml")):
            if c.is_file():
                return c
    p = Path(ref)
    if p.suffix == ".toml" or p.is_file():
        return p
    if ref in packaged_names():
        return _packaged_path(ref)
    raise ScenarioError(f"no scenario {ref!r}: not a file, and the packaged scenarios are "
                        f"{', '.join(packaged_names())}")


def read_with_parents(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The raw dict of ``path`` with its ``extends`` chain merged in."""
    path = path.resolve()
    if path in seen:
        raise ScenarioError(f"{path}: 'extends' forms a cycle")
    raw = _read_toml(path)
    raw.setdefault("name", path.stem)          # a scenario's name is its own, never its parent's
    if isinstance(raw.get("data"), dict):      # data files are named relative to their scenario
        raw["data"] = {k: (str((path.parent / v).resolve()) if isinstance(v, str) else v)
                       for k, v in raw["data"].items()}
    parent = raw.get("extends")
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: key 'extends' must be a scenario name or path (a string)")
    return deep_merge(read_with_parents(_resolve(parent, path), seen + (path,)), raw)


def _allowed_keys(model: type[BaseModel], loc: tuple) -> str:
    """Field names of the section at ``loc`` (for 'unknown key' messages)."""
    cls = model
    for part in loc:
        field = cls.model_fields.get(str(part)) if isinstance(cls, type) else None
        ann = getattr(field, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            cls = ann
        else:
            break
    return ", ".join(cls.model_fields)


def _describe(err: dict) -> str:
    ctx = err.get("ctx") or {}
    bounds = [f"{sym} {ctx[k]}" for k, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
              if k in ctx]
    if bounds:
        return f"{err['msg']} (allowed: {' and '.join(bounds)}; got {err.get('input')!r})"
    return f"{err['msg']} (got {err.get('input')!r})"


def format_validation_error(source: str, e: ValidationError, model: type[BaseModel]) -> str:
    """One line per problem: 'FILE: key 'a.b': what is wrong (allowed ...)'."""
    lines = []
    for err in e.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}'; allowed keys here: "
                         f"{_allowed_keys(model, loc[:-1])}")
        elif err["type"] == "value_error":
            lines.append(f"{source}: key '{key}': {str(err['msg']).removeprefix('Value error, ')}")
        else:
            lines.append(f"{source}: key '{key}': {_describe(err)}")
    return "\n".join(lines)


def _set_dotted(raw: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = node[p] = {} if nxt is None else nxt
        node = nxt
    if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
        node[parts[-1]] = deep_merge(node[parts[-1]], value)
    else:
        node[parts[-1]] = value


class Scenario:
    """A validated scenario: ``raw`` is the merged TOML dict, ``cfg`` the typed model."""

    def __init__(self, raw: dict, source: str = "<scenario>"):
        self.raw = raw
        self.source = source
        self.data = self._data(raw, source)
        try:
            self.cfg: ScenarioModel = ScenarioModel.model_validate(raw, context={"data": self.data})
        except ValidationError as e:
            raise ScenarioError(format_validation_error(source, e, ScenarioModel)) from None
        from zcf.sim.uncertainty import validate_uncertainty
        validate_uncertainty(self)
        if self.cfg.time.end_year < self.cfg.time.start_year:
            raise ScenarioError(f"{source}: key 'time.end_year' must be >= time.start_year "
                                f"({self.cfg.time.start_year}); got {self.cfg.time.end_year}")

    @staticmethod
    def _data(raw: dict, source: str) -> DefaultData:
        """The data tables of the scenario: packaged, or its ``[data]`` files (checked)."""
        try:
            files = DataFiles.model_validate(raw.get("data") or {}).files()
        except ValidationError as e:
            raise ScenarioError(format_validation_error(source, e, DataFiles).replace(
                "key '", "key 'data.")) from None
        try:
            return load_data(files)
        except DataError as e:
            raise ScenarioError(f"{source}: key 'data': {e}") from None

    @property
    def data_files(self) -> dict[str, str]:
        """The data tables this scenario reads from a user's file (table -> path)."""
        return self.cfg.data.files()

    @classmethod
    def load(cls, ref: str | Path) -> Scenario:
        """Load a packaged scenario by name, or a TOML file by path."""
        path = _resolve(str(ref), None)
        raw = read_with_parents(path)
        return cls(raw, source=str(path))

    @staticmethod
    def names() -> list[str]:
        return packaged_names()

    @property
    def name(self) -> str:
        return self.cfg.name

    def replace(self, overrides: dict[str, Any]) -> Scenario:
        """A new scenario with ``overrides`` (dotted keys or nested tables) applied."""
        raw = copy.deepcopy(self.raw)
        for key, value in overrides.items():
            _set_dotted(raw, key, value)
        return Scenario(raw, source=f"{self.source} (with overrides)")

    def get(self, key: str) -> Any:
        """The raw value at a dotted key path (``KeyError`` if absent)."""
        node: Any = self.raw
        for p in key.split("."):
            node = node[p] if isinstance(node, dict) else node[int(p)]
        return node

    def digest(self) -> str:
        """A stable hash of the scenario contents (for experiment manifests)."""
        blob = json.dumps(self.cfg.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, firms={self.cfg.population.firms})"
