"""Command-line values shared by every ``zcf`` sub-command, checked before any work starts.

``UsageError`` (exit code 2), ``parse_years`` (``--years START[-END]``), ``check_count`` (whole
numbers in a range), ``check_out_folder`` (``--out``: a folder that can be written),
``write_staged`` (outputs written in a hidden folder and moved into ``--out`` at the end, so a
failure leaves nothing half-written) and ``scenario_from_args`` (a scenario with ``--firms`` and
``--years`` applied).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from zcf.sim.scenario import Scenario

YEARS = re.compile(r"\s*([0-9]{4})\s*(?:-\s*([0-9]{4})\s*)?")     # 2025-2060 or 2030


class UsageError(ValueError):
    """A command-line value that cannot be used (exit code 2)."""


def parse_years(text: str | None, option: str = "--years",
                example: str = "2025-2060 (or one year, 2030)") -> tuple[int, int] | None:
    """'2025-2060' -> (2025, 2060); '2030' -> (2030, 2030)."""
    if text is None:
        return None
    m = YEARS.fullmatch(str(text))
    if not m:
        raise UsageError(f"{option} must look like {example}, not {text!r}")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if hi < lo:
        raise UsageError(f"{option}: end {hi} is before start {lo}; allowed: START-END with "
                         "END >= START")
    return lo, hi


def check_count(option: str, value: int | None, low: int = 1, high: int | None = None) -> None:
    """``value`` of ``option`` is a whole number in [low, high] (``None`` = not given)."""
    if value is None:
        return
    if value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f">= {low} and <= {high:,}"
        raise UsageError(f"{option} must be {span} (a whole number), not {value}")


def check_out_folder(text: str | None, option: str = "--out") -> Path | None:
    """The ``--out`` folder, checked before any work: a folder (new or existing) that can be
    written. Nothing is created here."""
    if text is None:
        return None
    if text.strip() == "":
        raise UsageError(f"{option} must name a folder, not {text!r}")
    if "\0" in text:
        raise UsageError(f"{option} {text!r}: a folder name must not hold a NUL character")
    out = Path(text)
    try:
        probe = out                  # the nearest part of the path that exists
        while not os.path.lexists(probe) and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            what = "exists and is not a folder" if probe == out else \
                f"{probe} is not a folder, so {out} cannot be created"
            raise UsageError(f"{option} {text}: {what}; allowed: a new or existing folder")
        longest = os.pathconf(probe, "PC_NAME_MAX")
        new_parts = out.parts[len(probe.parts):] if probe != Path(".") else out.parts
        too_long = [p for p in new_parts if len(os.fsencode(p)) > longest]
        if too_long:
            raise UsageError(f"{option}: folder name {too_long[0][:40]!r}... is longer than "
                             f"{longest} bytes; allowed: shorter names")
        fd, name = tempfile.mkstemp(prefix=".zcf-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except UsageError:
        raise
    except OSError as e:
        raise UsageError(f"{option} {text}: cannot write in {probe} ({e.strerror or e}); "
                         "allowed: a folder you can write to") from None
    except ValueError as e:
        raise UsageError(f"{option} {text!r} is not a usable folder name ({e})") from None
    return out


def write_staged(out: Path, write) -> None:
    """Call ``write(folder)`` on a hidden folder inside ``out``, then move what it wrote into
    ``out``; on any error nothing new is left in ``out`` (nor the folders made for it)."""
    top = None                        # the outermost folder this call creates, if any
    for folder in (out, *out.parents):
        if folder.exists():
            break
        top = folder
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".zcf-writing-", dir=out))
    try:
        write(stage)
        for src in sorted(stage.rglob("*")):
            if src.is_file():
                dst = out / src.relative_to(stage)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if top is not None:
            shutil.rmtree(top, ignore_errors=True)
        raise
    shutil.rmtree(stage, ignore_errors=True)


def scenario_from_args(name: str, firms: int | None = None, years: str | None = None) -> Scenario:
    """Load ``name`` and apply the common ``--firms`` / ``--years`` overrides."""
    span = parse_years(years)          # a malformed --years is refused before any file is read
    scn = Scenario.load(name)
    over: dict = {}
    if firms is not None:
        over["population.firms"] = firms
    if span:
        over["time.start_year"], over["time.end_year"] = span
    return scn.replace(over) if over else scn
