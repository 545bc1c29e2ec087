"""Fuzzing the edges: hypothesis strategies that mutate factory files, scenario files and command
lines, and checkers that sort each outcome into accepted, refused or a failure.

The contract checked (issue 15): every input ends either in exit 0 with finite results (and
non-negative where the quantity cannot be negative), or in exit 2 with one message that names
the file (or the option) and says what is allowed; never a traceback, never NaN or infinity.

Used by ``tests/test_fuzz.py`` (a bounded number of examples inside ``make test``) and by
``tests/fuzz_campaign.py`` (a long run outside the suite that counts outcomes).
"""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import math
import re
import traceback
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from zcf.sim.cli import main, run_model
from zcf.sim.datasets import defaults
from zcf.sim.files import ScenarioError
from zcf.sim.scenario import Scenario

# --- a small TOML writer (tomllib reads only) ---------------------------------------------------
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def toml_key(key) -> str:
    key = str(key)
    return key if BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(doc: dict) -> str:
    """``doc`` as TOML: top-level scalars first, then one [table] per top-level table (nested
    tables inline)."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"[{toml_key(k)}]")
            lines += [f"{toml_key(kk)} = {toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


# --- hostile values and mutations ---------------------------------------------------------------
EXTREME_FLOATS = [0.0, -0.0, 1e-320, 5e-324, 1e-3, 0.5, 1.0, 2.7, 1e6, 1e12, 1e15, 1e300,
                  1.79e308, -1.0, -1e308, math.inf, -math.inf, math.nan]
EXTREME_INTS = [0, 1, -1, 2, 2024, 2030, 2101, 1999, 10**6, 5_000_001, 2**53 + 1, 2**63, -2**63,
                10**30]

scalars = st.one_of(
    st.sampled_from(EXTREME_FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EXTREME_INTS),
    st.integers(),
    st.booleans(),
    st.sampled_from(["", "820000", "2030", "1e308", "nan", "inf", "true", "Jiangsu", "steel",
                     "baseline", "/", "..", "Tibet", "江苏", "💥", "\x00", "a" * 300]),
    st.text(max_size=20),
    st.dates(), st.datetimes(), st.times(),
)
hostile = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
)


def leaves(doc, prefix=()):
    """(path, value) of every value in nested dicts (lists are leaves)."""
    for k, v in doc.items():
        if isinstance(v, dict) and v:
            yield from leaves(v, prefix + (k,))
        yield prefix + (k,), v


def tables(doc, prefix=()):
    yield prefix, doc
    for k, v in doc.items():
        if isinstance(v, dict):
            yield from tables(v, prefix + (k,))


def _node(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def edges(model, path) -> list:
    """The bounds the schema gives the number at ``path`` (the largest accepted values are where
    arithmetic overflows), and values just outside them."""
    from zcf.sim.validation import schema_at
    node = schema_at(model, tuple(path)) if model is not None else None
    out = []
    for opt in (node or {}).get("anyOf", [node or {}]):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in opt:
                v = opt[key]
                out += [v, v * (1 + 1e-12) + 1e-300, v - abs(v) * 1e-12 - 1e-300]
    return out


@st.composite
def mutated(draw, base: dict, model=None, most: int = 3) -> dict:
    """``base`` with 0..``most`` mutations: a value replaced by a hostile one, a key deleted, an
    unknown key added, a key misspelt, a number pushed to an extreme or to the edge of what the
    schema ``model`` accepts."""
    import copy
    doc = copy.deepcopy(base)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, most]))):    # 0: the valid base
        items = list(leaves(doc))
        kind = draw(st.sampled_from(["replace", "replace", "extreme", "edge", "edge", "delete",
                                     "add", "rename"]))
        if not items:
            kind = "add"
        if kind in ("replace", "extreme", "edge", "delete", "rename"):
            path, value = draw(st.sampled_from(items))
            parent = _node(doc, path[:-1])
            if kind == "replace":
                parent[path[-1]] = draw(hostile)
            elif kind == "extreme" or (kind == "edge" and not edges(model, path)):
                parent[path[-1]] = draw(st.sampled_from(EXTREME_FLOATS + EXTREME_INTS))
            elif kind == "edge":
                v = draw(st.sampled_from(edges(model, path)))
                parent[path[-1]] = int(v) if isinstance(value, int) and v == int(v) else float(v)
            elif kind == "delete":
                del parent[path[-1]]
            else:
                new = str(path[-1]) + draw(st.sampled_from(["_", "s", "x", " ", "é"]))
                parent[new] = parent.pop(path[-1])
        else:
            _, table = draw(st.sampled_from(list(tables(doc))))
            table[draw(st.text(min_size=1, max_size=12))] = draw(hostile)
    return doc


@st.composite
def file_bytes(draw, doc_strategy) -> bytes:
    """A TOML file, sometimes damaged at the byte level (invalid UTF-8, cut short, deeply
    nested, empty)."""
    text = to_toml(draw(doc_strategy)).encode()
    damage = draw(st.sampled_from(["none"] * 6 + ["bytes", "cut", "deep", "empty", "bom"]))
    if damage == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
    elif damage == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif damage == "deep":
        depth = draw(st.sampled_from([20, 200, 2000, 20000]))
        text += b"deep = " + b"[" * depth + b"]" * depth + b"\n"
    elif damage == "empty":
        text = b""
    elif damage == "bom":
        text = b"\xef\xbb\xbf" + text
    return text


# --- factory files -------------------------------------------------------------------------------
@st.composite
def valid_factories(draw) -> dict:
    data = defaults()
    industry = draw(st.sampled_from(data.industry_ids))
    national = float(data.industries.loc[industry, "national_output_units_2024"])
    output = draw(st.floats(1.0, national))
    coal = draw(st.floats(0, 1e7))
    process = draw(st.floats(0, 1e6))
    return {
        "industry": industry, "province": draw(st.sampled_from(data.province_names)),
        "year": draw(st.integers(2021, 2060)), "output": output,
        "fuels": {"coal_t": coal, "natural_gas_m3": draw(st.floats(0, 1e8)),
                  "diesel_t": draw(st.floats(0, 1e5)),
                  "purchased_heat_gj": draw(st.floats(0, 1e6))},
        "electricity": {"grid_mwh": draw(st.floats(0, 1e6)),
                        "green_contract_mwh": draw(st.floats(0, 1e5)),
                        "green_certificate_mwh": draw(st.floats(0, 1e5))},
        "process": {"process_tco2": process, "captured_tco2": draw(st.floats(0, 1)) * process},
        "exports": {"eu_output": draw(st.floats(0, 1)) * output},
    }


def _factory_model():
    from zcf.sim.account import FactoryFile
    return FactoryFile


factory_files = file_bytes(valid_factories().flatmap(lambda d: mutated(d, _factory_model())))


# --- scenario files ------------------------------------------------------------------------------
SCENARIO_PARTS = {
    "population": {"provinces": ["Jiangsu"], "size_draw_sd_frac": 0.15,
                   "eu_share_per_exporter_frac": 0.25, "leader_size_quantile": 0.9,
                   "size_strata": 6, "agents_by_emissions_frac": 0.5},
    "time": {"start_year": 2025, "end_year": 2030},
    "prices": {"eur_cny": 7.8, "electricity_cny_per_mwh": 650.0,
               "fuel_price_mult": {"2025": 1.0, "2035": 1.2},
               "hydrogen_green_cny_per_kg": {"2025": 22.0, "2040": 12.0},
               "scrap_cny_per_t": {"2025": 2300.0},
               "co2_transport_storage_cny_per_tco2": {"2025": 250.0},
               "biomass_cny_per_gj": {"2025": 35.0}},
    "ets": {"price_cny_per_tco2": {"2025": 90.0, "2030": 150.0}, "offset_limit_frac": 0.05},
    "cbam": {"enabled": True, "start_year": 2026, "de_minimis_t": 50.0},
    "certification": {"resource_score_low": 0.3, "resource_score_high": 0.9,
                      "green_energy_target_frac": 0.15},
    "behaviour": {"logit_beta": 5.0, "risk_premium_frac": 0.06, "peer_weight": 0.6},
    "subsidy": {"capex_share": {"rooftop_pv": 0.2}, "budget_cny_per_yr": 1e9},
    "options": {"ccus": {"capex_cny_per_unit": 700.0, "opex_cny_per_unit_yr": 200.0},
                "steel_scrap_eaf": {"opex_cny_per_unit_yr": -187.0, "max_share_mult": 1.0}},
    "limits": {"scrap_mt_per_yr": {"2025": 250.0, "2060": 420.0},
               "co2_injection_mt_per_yr": {"2030": 100.0}},
    "surcharge": {"tiers": [{"industry": "aluminium", "from_year": 2025,
                             "threshold_mwh_per_unit": {"2025": 13.3},
                             "step_mwh_per_unit": 0.02, "surcharge_cny_per_mwh_per_step": 10.0,
                             "metered_frac": 0.964, "green_relief": True}]},
    "green_power": {"market_twh": {"2025": 330.0}, "transmission_mult": {"2025": 1.0}},
    "offsets": {"supply_mult": 1.0, "scope": "national"},
    "buyers": {"requirements": [{"industry": "steel", "from_year": 2030,
                                 "max_footprint_tco2_per_unit": 1.5, "penalty_frac": 0.1}],
               "premiums": [{"industry": "steel", "from_year": 2027,
                             "max_footprint_tco2_per_unit": 0.6, "premium_cny_per_unit": 1950.0,
                             "share_frac": 0.2}]},
    "uncertainty": {"prices.eur_cny": {"dist": "uniform", "loc": 7.4, "scale": 0.8},
                    "ets.price_cny_per_tco2.2030": {"dist": "lognorm", "s": 0.3, "scale": 130.0}},
}


@st.composite
def valid_scenarios(draw) -> dict:
    names = draw(st.lists(st.sampled_from(sorted(SCENARIO_PARTS)), min_size=1, max_size=5,
                          unique=True))
    doc = {"extends": draw(st.sampled_from(["jiangsu", "baseline", "no-cbam", "subsidy-push"])),
           "name": "fuzzed"}
    import copy
    doc.update({n: copy.deepcopy(SCENARIO_PARTS[n]) for n in names})
    return doc


def _scenario_model():
    from zcf.sim.schema import ScenarioModel
    return ScenarioModel


scenario_files = file_bytes(valid_scenarios().flatmap(lambda d: mutated(d, _scenario_model())))


# --- command lines -------------------------------------------------------------------------------
NUMBER_TEXT = st.one_of(st.sampled_from(["0", "-1", "1", "2", "3", "1e3", "2.5", "nan", "inf", "",
                                         " 1", "0x10", "१", "99999999999999999999999"]),
                        st.integers(-10**6, 10**6).map(str), st.text(max_size=6))
YEARS_TEXT = st.one_of(st.sampled_from(["2025-2026", "2025-", "-2026", "2026-2025", "2025",
                                        "2025-2026-2027", "1999-2000", "2059-2061", "2025--2026",
                                        "2025 - 2026", "२०२५-२०२६", "", "x"]),
                       st.text(max_size=9))
OUT_TEXT = st.sampled_from(["", "{tmp}/out", "{tmp}/file.txt", "{tmp}/file.txt/sub", "/proc/zcf",
                            "/dev/null", "{tmp}/" + "d" * 300, "{tmp}/a\x00b", "{tmp}"])


OPTIONS = {   # options each command takes (a few foreign ones are drawn too)
    "run": ["--seed", "--firms", "--years", "--out"],
    "compare": ["--seed", "--seeds", "--firms", "--years"],
    "mc": ["--seed", "--firms", "--years", "--out", "--runs", "--workers", "--scheduler",
           "--connect-timeout"],
    "sweep": ["--seed", "--firms", "--years", "--out", "--workers", "--runs-per-point"],
    "sensitivity": ["--seed", "--firms", "--years", "--out", "--samples", "--levels"],
    "account": [], "scenarios": [], "nonsense": [],
}


@st.composite
def command_lines(draw) -> list[str]:
    """A ``zcf`` command line: one valid small command, then hostile option values."""
    cmd = draw(st.sampled_from(["run", "run", "compare", "mc", "mc", "sweep", "account",
                                "account", "bench", "sensitivity", "scenarios", "nonsense"]))
    opts: dict[str, str] = {}
    pos: list[str] = []
    if cmd in ("run", "mc", "sweep", "sensitivity"):
        pos = [draw(st.sampled_from(["jiangsu", "{scn}", "{scn}", "jiangsu", "nowhere", "",
                                     "{tmp}", "/dev/null"]))]
        opts = {"--firms": "60", "--years": "2025-2026", "--seed": "1"}
    if cmd == "compare":
        pos = draw(st.lists(st.sampled_from(["jiangsu", "no-cbam", "{scn}", "nowhere"]),
                            min_size=draw(st.sampled_from([0, 2, 2])), max_size=3))
        opts = {"--firms": "60", "--years": "2025-2025", "--seeds": "1"}
    if cmd == "mc":
        opts |= {"--runs": "2", "--workers": "1"}
    if cmd == "sweep":
        opts |= {"--runs-per-point": "1", "--workers": "1",
                 "--set": draw(st.sampled_from(["ets.offset_limit_frac=0.05,0.1",
                                                "population.firms=10,2.5", "nope=1",
                                                "ets.price_cny_per_tco2.2030=inf", "=", "x"]))}
    if cmd == "sensitivity":
        pos = [draw(st.sampled_from(["{scn}", "{scn}", "jiangsu"]))]
        opts |= {"--samples": "2", "--workers": "1", "--method": "morris",
                 "--output": draw(st.sampled_from(["emissions.net_tco2@2026", "x", "a.b@1"]))}
    if cmd == "account":
        pos = [draw(st.sampled_from(["{factory}", "{factory}", "", "{tmp}", "/dev/null",
                                     "/dev/zero", "nowhere.toml"]))]
        if draw(st.booleans()):
            opts["--json"] = ""
    if cmd == "bench":
        opts = {"--firms": draw(NUMBER_TEXT), "--python-firms": draw(NUMBER_TEXT)}
        return ["bench", *[x for k, v in opts.items() for x in (k, v)]]   # never run: see check
    extra = {"--seed": NUMBER_TEXT, "--firms": NUMBER_TEXT, "--years": YEARS_TEXT,
             "--seeds": NUMBER_TEXT, "--runs": NUMBER_TEXT, "--workers": NUMBER_TEXT,
             "--out": OUT_TEXT, "--samples": NUMBER_TEXT, "--levels": NUMBER_TEXT,
             "--runs-per-point": NUMBER_TEXT, "--connect-timeout": NUMBER_TEXT,
             "--scheduler": st.sampled_from(["", "tcp://127.0.0.1:1", "nonsense://", "x:y:z"])}
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        own = OPTIONS[cmd]
        key = draw(st.sampled_from(own if own and draw(st.integers(0, 9)) else sorted(extra)))
        opts[key] = draw(extra[key])
    if "--scheduler" in opts:
        opts.pop("--workers", None)
    argv = [cmd, *pos]
    for k, v in opts.items():
        argv += [k] if v == "" and k == "--json" else [k, v]
    return argv


# --- running and judging -------------------------------------------------------------------------
ACCEPTED, REFUSED = "accepted", "refused"
# columns that may be negative: allowance sales (ETS cost), direct supply cheaper than the grid,
# and net emissions where offsets retired exceed a cell's gross emissions
# signed by definition: payments net of sales, and the parts of the emissions-avoided decomposition
# (contractual instruments are negative where the residual mix is above the grid average)
SIGNED_COLUMNS = {"ets_cost_cny", "green_power_cost_cny", "net_tco2", "avoided_grid_tco2",
                  "avoided_physical_tco2", "avoided_contract_tco2"}


def call_main(argv: list[str]) -> tuple[int | None, str, str, str | None]:
    """(exit code, stdout, stderr, traceback text if an exception escaped) of ``zcf argv``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:               # argparse: exit 2 with a usage line
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:                 # noqa: BLE001 - a traceback is what we look for
            return None, out.getvalue(), err.getvalue(), traceback.format_exc()
    return code, out.getvalue(), err.getvalue(), None


def judge_refusal(stderr: str, names: list[str], rule_words=("allowed",)) -> str:
    """REFUSED when the message names one of ``names`` (the file) and says what is allowed
    (one of ``rule_words``); otherwise the failure."""
    if "Traceback" in stderr:
        return f"traceback in message: {stderr[-300:]}"
    if not stderr.strip():
        return "refused without a message"
    if names and not any(n in stderr for n in names):
        return f"message names neither of {names}: {stderr[:300]}"
    if not any(w in stderr for w in (*rule_words, "usage:")):
        return f"message does not say what is allowed: {stderr[:300]}"
    return REFUSED


def strict_json(text: str) -> dict:
    def bad(name):
        raise ValueError(f"non-strict JSON constant {name}")
    return json.loads(text, parse_constant=bad)


def check_factory(path: Path) -> str:
    code, out, err, tb = call_main(["account", str(path), "--json"])
    if tb:
        return "traceback: " + tb.strip().splitlines()[-1]
    if code == 2:
        return judge_refusal(err, [str(path)])
    if code != 0:
        return f"exit {code}: {err[-300:]}"
    try:
        res = strict_json(out)
    except ValueError as e:
        return f"non-finite output: {e}"
    bad = {k: v for k, v in res.items() if not (isinstance(v, (int, float)) and math.isfinite(v))}
    if bad:
        return f"non-finite output: {bad}"
    neg = {k: v for k, v in res.items() if v < 0}
    if neg:
        return f"negative output: {neg}"
    return ACCEPTED


# Values left undefined by design of the model (sim/markets.py, sim/model.py), counted apart:
# the offset price of a market year without trade, the abatement cost when nothing was abated.
UNDEFINED = {"offset price without trade": 0, "abatement cost without abatement": 0,
             "tier without a batch cap": 0}


def _drop_undefined(name: str, df):
    if name == "offsets" and "price_cny_per_tco2" in df:
        no_trade = (df["volume_tco2"] == 0) & df["price_cny_per_tco2"].isna()
        UNDEFINED["offset price without trade"] += int(no_trade.any())
        df = df.assign(price_cny_per_tco2=df["price_cny_per_tco2"].where(~no_trade, 0.0))
    if name == "programme" and "cap_factories" in df:      # no cap: infinite by design
        uncapped = df["cap_factories"] == float("inf")
        UNDEFINED["tier without a batch cap"] += int(uncapped.any())
        df = df.assign(cap_factories=df["cap_factories"].where(~uncapped, 0.0))
    return df


def check_tables(tables: dict) -> str:
    for name, df in tables.items():
        num = _drop_undefined(name, df).select_dtypes("number")
        values = num.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            cols = [c for c in num if not np.isfinite(num[c].to_numpy(float)).all()]
            return f"non-finite output: {name}.{cols}"
        neg = [c for c in num if c not in SIGNED_COLUMNS and (num[c] < 0).any()]
        if neg:
            return f"negative output: {name}.{neg}"
    return ACCEPTED


def check_scenario(path: Path, firms: int, seed: int) -> str:
    """Load the scenario file; when accepted, run it small (``firms``, two years) and check
    every table. Same edge as ``zcf run FILE`` (which loads and then runs)."""
    try:
        scn = Scenario.load(path)
        start = scn.cfg.time.start_year
        small = scn.replace({"population.firms": firms, "time.start_year": start,
                             "time.end_year": min(start + 1, scn.cfg.time.end_year)})
    except ScenarioError as e:
        return judge_refusal(str(e), [str(path)])
    except BaseException:                     # noqa: BLE001
        return "traceback: " + traceback.format_exc().strip().splitlines()[-1]
    try:
        model = run_model(small, seed, progress=False)
        tables = dict(model.results.tables())
        summary = model.results.summary(tables)
    except BaseException:                     # noqa: BLE001
        return "traceback: " + traceback.format_exc().strip().splitlines()[-1]
    verdict = check_tables(tables)
    if verdict != ACCEPTED:
        return verdict
    values = summary["value"].to_numpy(float)
    undefined = (summary["metric"].str.startswith("abatement cost") & summary["value"].isna()
                 ).to_numpy()
    UNDEFINED["abatement cost without abatement"] += int(undefined.any())
    if not np.isfinite(values[~undefined]).all():
        return f"non-finite output: summary {summary[~np.isfinite(values)].metric.tolist()}"
    return ACCEPTED


def check_command(argv: list[str], fill: dict[str, str]) -> str:
    for key, value in fill.items():          # placeholders only: fuzzed text may hold braces
        argv = [a.replace("{" + key + "}", value) for a in argv]
    if argv[0] == "bench":
        # the benchmark itself takes minutes: only its argument checks are fuzzed
        from zcf.sim import bench
        real, bench.run_benchmarks = bench.run_benchmarks, lambda **kw: None
        try:
            code, out, err, tb = call_main(argv)
        finally:
            bench.run_benchmarks = real
    else:
        code, out, err, tb = call_main(argv)
    if tb:
        return "traceback: " + tb.strip().splitlines()[-1]
    if code == 0:
        # the summary's abatement cost is undefined (nan) when nothing was abated (UNDEFINED)
        shown = [ln for ln in out.lower().splitlines() if not ln.strip().startswith("abatement")]
        words = {w.strip(",()") for ln in shown for w in ln.split()}
        if words & {"nan", "inf", "-inf", "infinity"}:
            return f"non-finite output: {out[-300:]}"
        return ACCEPTED
    if code == 2:     # an option's message says what it "must" be or what is "allowed"
        return judge_refusal(err, [], rule_words=("allowed", " must ", "needs "))
    return f"exit {code}: {err[-300:]}"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def tally(counts: dict, verdict: str) -> None:
    key = verdict if verdict in (ACCEPTED, REFUSED) else verdict.split(":")[0]
    counts[key] = counts.get(key, 0) + 1
    if key not in (ACCEPTED, REFUSED):
        counts.setdefault("examples", []).append(verdict)

