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
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zcf.sim.datasets import DefaultData, load_data
from zcf.sim.errors import DataError
from zcf.sim.files import ScenarioError, packaged_names, read_toml, real_path, resolve
from zcf.sim.schema import DataFiles, ScenarioModel, cross_field_problems
from zcf.sim.validation import format_validation_error

__all__ = ["Scenario", "ScenarioError", "deep_merge", "format_validation_error", "packaged_names",
           "read_with_parents"]


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` merged into a copy of ``base``: tables merge, other values replace."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_with_parents(path: Path, seen: tuple[Path, ...] = (),
                      named_by: tuple[Path, str] | None = None) -> dict:
    """The raw dict of ``path`` with its ``extends`` chain merged in (parents found beside the
    file that names them)."""
    real = real_path(path)
    if real in seen:
        raise ScenarioError(f"{named_by[0] if named_by else path}: key 'extends' forms a cycle "
                            f"({' -> '.join(str(p) for p in seen + (real,))}); allowed: a chain "
                            "of parents that ends")
    raw = read_toml(path, named_by=named_by, what="scenario file")
    raw.setdefault("name", Path(path).stem)    # a scenario's name is its own, never its parent's
    if isinstance(raw.get("data"), dict):      # data files are named relative to their scenario
        here = real.parent
        raw["data"] = {k: (str(real_path(here / v)) if isinstance(v, str) else v)
                       for k, v in raw["data"].items()}
    if "extends" not in raw:
        return raw
    parent = resolve(raw["extends"], named_by=(Path(path), "extends"))
    return deep_merge(read_with_parents(parent, seen + (real,), (Path(path), "extends")), raw)


def _set_dotted(raw: dict, key: str, value: Any, source: str) -> None:
    if not isinstance(key, str) or not key or "" in key.split("."):
        raise ScenarioError(f"{source}: override key {key!r} is not a dotted key path; allowed: "
                            "e.g. 'population.firms' or 'ets.price_cny_per_tco2'")
    parts = key.split(".")
    node = raw
    for i, p in enumerate(parts[:-1]):
        nxt = node.get(p)
        if nxt is None:
            nxt = node[p] = {}
        elif not isinstance(nxt, dict):
            raise ScenarioError(f"{source}: key '{'.'.join(parts[:i + 1])}' holds {nxt!r}, not a "
                                f"table, so '{key}' cannot be set; allowed: a key path that "
                                "follows the scenario's tables")
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
        if not isinstance(raw, dict):
            raise ScenarioError(f"{source}: a scenario must be a table of keys, not "
                                f"{type(raw).__name__}")
        self.data = self._data(raw, source)
        try:
            self.cfg: ScenarioModel = ScenarioModel.model_validate(raw, context={"data": self.data})
        except ValidationError as e:
            raise ScenarioError(format_validation_error(source, e, ScenarioModel)) from None
        problems = cross_field_problems(self.cfg, self.data)
        if problems:
            raise ScenarioError("\n".join(f"{source}: key '{k}': {why}" for k, why in problems))
        from zcf.sim.uncertainty import validate_uncertainty
        validate_uncertainty(self)

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
        path = resolve(ref)
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
            _set_dotted(raw, key, value, self.source)
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
