"""The ``[uncertainty]`` section of a scenario: distributions over numeric scenario values.

Each entry maps the dotted key path of a number in the scenario to a ``scipy.stats`` distribution
with its parameters::

    [uncertainty]
    "ets.price_cny_per_tco2.2030" = { dist = "lognorm", s = 0.3, scale = 130 }
    "cbam.verified_share_others" = { dist = "uniform", loc = 0.1, scale = 0.3 }
    "prices.eur_cny" = { dist = "triang", c = 0.5, loc = 7.4, scale = 0.8 }

Objects here:

- ``DISTRIBUTIONS`` (scipy names) and ``ALIASES`` (``normal`` -> ``norm`` ...): what ``dist`` may be.
- ``Parameter``: one uncertain value (``key``, ``dist``, ``params``); ``ppf(u)`` maps uniform
  numbers to values.
- ``parameters(scenario)``: the parsed section, sorted by key (the draw order); ``section`` (the
  raw entries) and ``parameter(scenario, key, spec)`` (one entry checked, e.g. a calibration
  prior).
- ``validate_uncertainty(scenario)``: called by ``Scenario.__init__``; one-line ``ScenarioError``
  naming the file, the key ``uncertainty.<path>`` and what is allowed.
- ``draw(scenario, rng)``, ``apply_values(scenario, values)``, ``draw_scenario(scenario, rng)``:
  sample values from a ``numpy.random.Generator`` and make the scenario of one run.

Draws are inverse-transform samples ``ppf(u)`` with ``u`` clipped to ``[U_MIN, 1 - U_MIN]``;
validation checks the values at both ends and at the median against the scenario schema, so
every value a run can draw is one the scenario accepts (a normal distribution on a share that
could go below 0 is refused at load, not in run 734 of an experiment).
"""
from __future__ import annotations

import copy
import functools
import itertools
import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np

from zcf.sim.files import ScenarioError
from zcf.sim.validation import near_keys

DISTRIBUTIONS = ("norm", "lognorm", "uniform", "triang", "beta", "truncnorm", "gamma",
                 "weibull_min", "loguniform")
ALIASES = {"normal": "norm", "lognormal": "lognorm", "triangular": "triang"}
U_MIN = 1e-9                 # draws use quantiles in [U_MIN, 1 - U_MIN]
NOT_DRAWABLE = ("uncertainty", "name", "description", "extends")


def _error(scenario, key: str, what: str):
    return ScenarioError(f"{scenario.source}: key 'uncertainty.{key}': {what}")


def allowed_distributions() -> str:
    """'norm (normal), lognorm (lognormal), uniform, ...' for messages and docs."""
    back = {v: k for k, v in ALIASES.items()}
    return ", ".join(f"{d} ({back[d]})" if d in back else d for d in DISTRIBUTIONS)


@dataclass(frozen=True)
class Parameter:
    """One uncertain scenario value: ``key`` (dotted path), scipy ``dist`` name, its ``params``."""

    key: str
    dist: str
    params: dict[str, float] = field(default_factory=dict)

    @property
    def frozen(self):
        """The frozen ``scipy.stats`` distribution."""
        return _frozen(self.dist, tuple(sorted(self.params.items())))

    def ppf(self, u) -> np.ndarray:
        """Values at uniform numbers ``u`` (clipped to ``[U_MIN, 1 - U_MIN]``)."""
        return self.frozen.ppf(np.clip(np.asarray(u, dtype=float), U_MIN, 1.0 - U_MIN))

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.dist}({args})"


@functools.lru_cache(maxsize=256)
def _frozen(dist: str, params: tuple):
    from scipy import stats
    return getattr(stats, dist)(**dict(params))


# -- key paths ------------------------------------------------------------------------------------
def _child_key(node: dict, part: str | int):
    """The key of ``node`` that ``part`` names: TOML year keys are strings, Python ones ints."""
    if part in node:
        return part
    alt = str(part) if isinstance(part, int) else (int(part) if part.isdigit() else None)
    if alt is not None and alt in node:
        return alt
    return None


def lookup(tree: dict, path: str) -> tuple[bool, Any, str]:
    """(found, value, deepest existing prefix) of dotted ``path`` in a nested dict."""
    node: Any = tree
    done: list[str] = []
    for part in path.split("."):
        key = _child_key(node, part) if isinstance(node, dict) else None
        if key is None:
            return False, node, ".".join(done)
        node = node[key]
        done.append(part)
    return True, node, ".".join(done)


def _set_path(raw: dict, path: str, value: Any, defaults: dict) -> None:
    """Set dotted ``path`` in ``raw``, matching existing key types; missing tables come from the
    schema defaults (so that setting one year anchor of a default path keeps the others)."""
    parts = path.split(".")
    node, dnode = raw, defaults
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            raise KeyError(f"'{'.'.join(parts[:i])}' holds {node!r}, not a table")
        key = _child_key(node, part)
        dkey = _child_key(dnode, part) if isinstance(dnode, dict) else None
        sub_default = dnode[dkey] if dkey is not None else {}
        if key is None:
            key = part
            node[key] = copy.deepcopy(sub_default) if isinstance(sub_default, dict) else {}
        node, dnode = node[key], sub_default
    if not isinstance(node, dict):
        raise KeyError(f"'{'.'.join(parts[:-1])}' holds {node!r}, not a table")
    last = _child_key(node, parts[-1])
    for twin in _twins(parts[-1]):        # "2030" and 2030 may both be there after replace()
        node.pop(twin, None)
    node[parts[-1] if last is None else last] = value


def _twins(part: str) -> tuple:
    return (part, int(part)) if part.isdigit() else (part,)


def _defaults_tree(scenario) -> dict:
    return scenario.cfg.model_dump(mode="python")


def numeric_value(scenario, key: str) -> float:
    """The current number at ``key`` (raw file values first, then schema defaults)."""
    for tree in (scenario.raw, _defaults_tree(scenario)):
        found, value, _ = lookup(tree, key)
        if found:
            return value
    raise KeyError(key)


def apply_to_raw(raw: dict, values: dict[str, Any], defaults: dict | None = None,
                 drop_uncertainty: bool = True) -> dict:
    """A copy of ``raw`` with ``values`` (dotted key -> value) set and ``[uncertainty]`` dropped."""
    out = copy.deepcopy(raw)
    for key, value in values.items():
        _set_path(out, key, _plain(value), defaults or {})
    if drop_uncertainty:
        out.pop("uncertainty", None)
    return out


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers (TOML-like raw values)."""
    return value.item() if isinstance(value, np.generic) else value


def apply_values(scenario, values: dict[str, Any], drop_uncertainty: bool = True):
    """A new validated ``Scenario`` with ``values`` (dotted key -> value) set.

    Year segments match the scenario's own keys (``"2030"`` from TOML or ``2030`` from Python),
    so an anchor is replaced, never duplicated. With ``drop_uncertainty`` the result has no
    ``[uncertainty]`` section: it is one point of the uncertain space.
    """
    try:
        raw = apply_to_raw(scenario.raw, values, _defaults_tree(scenario), drop_uncertainty)
    except KeyError as e:
        raise ScenarioError(f"{scenario.source}: {e.args[0]}; allowed: a key path that follows "
                            "the scenario's tables") from None
    return type(scenario)(raw, source=scenario.source)     # a Scenario (validated again)


# -- parsing and validation -----------------------------------------------------------------------
def _flatten(section: dict, prefix: str = "") -> dict[str, Any]:
    """``{"a.b": spec}`` also from nested TOML tables (``a.b = {dist = ...}`` without quotes)."""
    out: dict[str, Any] = {}
    for k, v in section.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "dist" not in v and v and all(isinstance(x, dict)
                                                                  for x in v.values()):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _check_path(scenario, key: str) -> None:
    if key.split(".")[0] in NOT_DRAWABLE:
        raise _error(scenario, key, f"'{key.split('.')[0]}' cannot be uncertain; allowed: a "
                     "dotted path to a number, e.g. ets.price_cny_per_tco2.2030 or prices.eur_cny")
    for tree in (scenario.raw, _defaults_tree(scenario)):
        found, value, prefix = lookup(tree, key)
        if found:
            break
    if not found:
        where = f"'{prefix}'" if prefix else "the top level"
        names = [str(k) for k in value] if isinstance(value, dict) else []
        keys = ", ".join(names) if isinstance(value, dict) else "none (not a table)"
        missing = key.split(".")[len(prefix.split(".")) if prefix else 0]
        raise _error(scenario, key, f"no such value in the scenario; allowed keys at {where}: "
                     f"{keys}{near_keys(missing, names)}")
    if isinstance(value, dict):
        raise _error(scenario, key, f"is a table (keys {', '.join(map(str, value))}), not a "
                     f"number; allowed: the full path to a number, e.g. "
                     f"{key}.{next(iter(value), 'KEY')}")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise _error(scenario, key, f"holds {value!r}, not a number; allowed: numeric values "
                     "only")


def _domain(lo: float, hi: float, inclusive: tuple[bool, bool]) -> str:
    """'> 0', '>= 0 and <= 1', 'any' for one shape parameter's domain."""
    parts = []
    if math.isfinite(lo):
        parts.append(f"{'>=' if inclusive[0] else '>'} {0 if 0 < lo < 1e-300 else lo:g}")
    if math.isfinite(hi):
        parts.append(f"{'<=' if inclusive[1] else '<'} {hi:g}")
    return " and ".join(parts) or "any finite number"


def parameter_rules(name: str) -> str:
    """What the parameters of scipy distribution ``name`` may be, e.g. 's > 0, loc any ...'."""
    from scipy import stats
    dist = getattr(stats, name)
    rules = [f"{s.name} {_domain(float(s.domain[0]), float(s.domain[1]), s.inclusive)}"
             for s in dist._shape_info()]
    if name in ("truncnorm", "loguniform"):
        rules.append("a < b")
    return ", ".join(rules + ["loc any finite number", "scale > 0 (default 1)"])


def _parse_one(scenario, key: str, spec: Any) -> Parameter:
    from scipy import stats
    if not isinstance(spec, dict) or "dist" not in spec:
        raise _error(scenario, key, "must be a table; allowed: { dist = NAME, PARAMETER = "
                     f"NUMBER ... }} with NAME one of {allowed_distributions()}")
    name = ALIASES.get(str(spec["dist"]), str(spec["dist"]))
    if not isinstance(spec["dist"], str) or name not in DISTRIBUTIONS:
        raise _error(scenario, key, f"unknown distribution {spec['dist']!r}; allowed: "
                     f"{allowed_distributions()}")
    dist = getattr(stats, name)
    allowed = ([s.strip() for s in dist.shapes.split(",")] if dist.shapes else []) + ["loc", "scale"]
    params = {k: v for k, v in spec.items() if k != "dist"}
    bad = [k for k, v in params.items()
           if k not in allowed or isinstance(v, bool) or not isinstance(v, Real)
           or not math.isfinite(v)]
    missing = [s for s in allowed[:-2] if s not in params]
    if bad or missing:
        what = (f"parameter {bad[0]!r} = {params[bad[0]]!r} is not allowed" if bad
                else f"parameter {missing[0]!r} is missing")
        raise _error(scenario, key, f"{what}; {name} takes finite numbers for "
                     f"{', '.join(allowed)} (shape parameters required); allowed: "
                     f"{parameter_rules(name)}")
    param = Parameter(key, name, {k: float(v) for k, v in params.items()})
    try:
        with np.errstate(all="ignore"):
            probe = param.ppf([0.0, 0.5, 1.0])
    except (TypeError, ValueError, OverflowError, ZeroDivisionError) as e:
        raise _error(scenario, key, f"bad parameters for {param.describe()} ({e}); allowed: "
                     f"{parameter_rules(name)}") from None
    if not np.all(np.isfinite(probe)):
        raise _error(scenario, key, f"bad parameters for {param.describe()}: it has no finite "
                     f"values at the {U_MIN:g} and {1 - U_MIN:.9g} quantiles; allowed: "
                     f"{parameter_rules(name)}, with finite quantiles")
    return param


def _check_drawable(scenario, param: Parameter) -> None:
    """Every value the distribution can draw must pass the schema at ``param.key``."""
    from pydantic import ValidationError

    from zcf.sim.schema import ScenarioModel
    from zcf.sim.validation import format_validation_error
    defaults = _defaults_tree(scenario)
    for u, label in ((0.0, f"its {U_MIN:g} quantile"), (0.5, "its median"),
                     (1.0, f"its {1 - U_MIN:.9g} quantile")):
        value = float(param.ppf(u))
        raw = apply_to_raw(scenario.raw, {param.key: value}, defaults)
        try:
            ScenarioModel.model_validate(raw, context={"data": scenario.data})
        except ValidationError as e:
            if e.errors()[0]["type"].startswith("int"):
                raise _error(scenario, param.key, f"key '{param.key}' takes whole numbers only, "
                             "so it cannot be drawn from a continuous distribution; allowed: "
                             "real-valued keys (vary whole numbers with zcf sweep --set)") from None
            why = format_validation_error("", e, ScenarioModel).splitlines()[0].removeprefix(": ")
            raise _error(scenario, param.key, f"{param.describe()} can draw {value:.6g} "
                         f"({label}), which the scenario refuses: {why}; allowed: a distribution "
                         "inside the key's range (bounded ones: uniform, triang, beta, "
                         "truncnorm)") from None


def section(scenario) -> dict[str, Any]:
    """The raw ``[uncertainty]`` entries of ``scenario`` by dotted key (unchecked)."""
    return _flatten(scenario.raw.get("uncertainty") or {})


def parameter(scenario, key: str, spec: Any) -> Parameter:
    """One checked entry: ``key`` names a number of ``scenario`` and every value ``spec`` (a
    ``{dist = ..., ...}`` table) can draw is one the scenario accepts (``ScenarioError``)."""
    _check_path(scenario, key)
    param = _parse_one(scenario, key, spec)
    _check_drawable(scenario, param)
    return param


def _check_cross_fields(scenario, params: list[Parameter]) -> None:
    """Rules that tie keys together (low <= high) must hold at every corner of the draws."""
    from zcf.sim.schema import ScenarioModel, cross_field_problems, is_cross_field_key
    tied = [p for p in params if is_cross_field_key(p.key)]
    if not tied:
        return
    defaults = _defaults_tree(scenario)
    for corner in itertools.product((0.0, 1.0), repeat=len(tied)):
        values = {p.key: float(p.ppf(u)) for p, u in zip(tied, corner)}
        cfg = ScenarioModel.model_validate(apply_to_raw(scenario.raw, values, defaults),
                                           context={"data": scenario.data})
        problems = cross_field_problems(cfg, scenario.data)
        if problems:
            key, why = problems[0]
            drawn = ", ".join(f"{k} = {v:.6g}" for k, v in values.items())
            raise _error(scenario, tied[0].key, f"the distributions can draw {drawn} together, "
                         f"which the scenario refuses: key '{key}' {why}; allowed: "
                         "distributions whose ranges keep the rule at every draw")


def parameters(scenario) -> list[Parameter]:
    """The validated ``[uncertainty]`` entries of ``scenario``, sorted by key path."""
    entries = section(scenario)
    out = [parameter(scenario, key, entries[key]) for key in sorted(entries)]
    _check_cross_fields(scenario, out)
    return out


def validate_uncertainty(scenario) -> None:
    """Raise ``ScenarioError`` for an unknown key path or a bad distribution."""
    if scenario.raw.get("uncertainty"):
        parameters(scenario)


# -- drawing --------------------------------------------------------------------------------------
def values_at(params: list[Parameter], u) -> dict[str, float]:
    """Parameter values at uniform numbers ``u`` (one per parameter, in order)."""
    u = np.asarray(u, dtype=float)
    return {p.key: float(p.ppf(u[i])) for i, p in enumerate(params)}


def values_table(params: list[Parameter], u) -> list[dict[str, float]]:
    """``values_at`` for every row of the matrix ``u`` (rows = runs), vectorised per parameter."""
    u = np.asarray(u, dtype=float).reshape(-1, len(params))
    cols = [p.ppf(u[:, i]) for i, p in enumerate(params)]
    return [{p.key: float(cols[i][j]) for i, p in enumerate(params)} for j in range(len(u))]


def draw(scenario, rng: np.random.Generator) -> dict[str, float]:
    """One value per uncertain parameter, drawn from ``rng`` (dotted key -> value)."""
    params = parameters(scenario)
    return values_at(params, rng.random(len(params)))


def draw_scenario(scenario, rng: np.random.Generator):
    """(scenario of one run without ``[uncertainty]``, the values drawn)."""
    values = draw(scenario, rng)
    return apply_values(scenario, values), values
