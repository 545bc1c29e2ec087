"""The result store: a Parquet dataset under ``--out``, one file per run and table, resumable.

Layout::

    OUT/manifest.json                     what the experiment is (see ``Manifest`` fields below)
    OUT/tables/TABLE/run-000042.parquet   the rows of run 42 of table TABLE (emissions, summary ...)
    OUT/runs/run-000042.parquet           run 42 is finished: one row (run, seed, values drawn)
    OUT/stats/TABLE.parquet               mean, sd, quantiles per year and group (at the end)
    OUT/figures/*.png                     with --plot

``pd.read_parquet("OUT/tables/emissions")`` reads every finished run of a table. Every file is
written under a temporary name starting with ``.`` (which pyarrow and this module ignore) and then
renamed with ``os.replace``, so nothing half-written is ever read back. A run's tables are written
first and its ``runs/`` file last: a run counts as finished only once that file exists, so a run
killed half-way is simply run again (with identical results) when the command is repeated.

The manifest holds the kind of experiment, the scenario (name, source, digest, merged contents),
the seed, the package version, the plan (e.g. ``runs``, a sweep grid, a sensitivity design) and,
per run, its seed and the parameter values drawn. Opening a folder that holds another experiment
(other scenario digest, seed, kind or plan) raises ``StoreError``.

Objects here: ``StoreError``, ``write_parquet_atomic``, ``write_json_atomic``,
``write_csv_atomic``, ``write_text_atomic``, ``RunStore``.
"""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMAT = "zcf-experiment/1"
RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")


class StoreError(ValueError):
    """An output folder that cannot be used for this experiment."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` under a temporary name, then rename it into place."""
    tmp = _tmp_name(path)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_csv_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as CSV (no index) under a temporary name, then rename it into place."""
    return write_text_atomic(df.to_csv(index=False), path)


def write_text_atomic(text: str, path: Path) -> Path:
    """Write ``text`` under a temporary name, then rename it into place."""
    tmp = _tmp_name(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_json_atomic(obj: Any, path: Path) -> Path:
    text = json.dumps(obj, indent=1, default=_json_default, sort_keys=False)
    return write_text_atomic(text, path)


def _json_default(value: Any):
    if hasattr(value, "item"):          # numpy scalars
        return value.item()
    return str(value)


def run_file(run: int) -> str:
    return f"run-{run:06d}.parquet"


def _run_index(name: str) -> int | None:
    m = RUN_FILE.match(name)
    return int(m.group(1)) if m else None


class RunStore:
    """An experiment folder: manifest, per-run Parquet files, finished-run bookkeeping."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.started = time.time()

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def manifest(self) -> dict | None:
        """The stored manifest, or ``None`` for a new folder."""
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as e:
            raise StoreError(f"{self.manifest_path}: not a readable manifest ({e})") from None

    def open(self, manifest: dict, growable: tuple[str, ...] = ()) -> None:
        """Start or resume: refuse a folder that holds a different experiment.

        ``growable`` names plan entries that may grow on resume (``runs`` of a Monte Carlo); the
        stored manifest is then rewritten with the larger plan.
        """
        old = self.manifest()
        if old is None:
            if (self.folder / "runs").is_dir() and any((self.folder / "runs").iterdir()):
                raise StoreError(f"{self.folder}: holds runs but no manifest.json; use another "
                                 "--out folder")
            self._create(manifest)
            return
        self._check_same(old, manifest, growable)
        if any(manifest["plan"].get(k, 0) > old["plan"].get(k, 0) for k in growable):
            write_json_atomic(manifest, self.manifest_path)

    def _create(self, manifest: dict) -> None:
        for sub in ("tables", "runs"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        write_json_atomic(manifest, self.manifest_path)

    def _check_same(self, old: dict, new: dict, growable: tuple[str, ...]) -> None:
        where = f"{self.folder} holds"
        if old.get("format") != FORMAT:
            raise StoreError(f"{where} {old.get('format')!r} results, not {FORMAT!r}; use another "
                             "--out folder")
        o, n = old["scenario"], new["scenario"]
        if o["digest"] != n["digest"]:
            raise StoreError(f"{where} results of scenario {o['name']!r} (digest {o['digest']}, "
                             f"from {o['source']}); this is scenario {n['name']!r} (digest "
                             f"{n['digest']}): a different scenario (or --firms/--years) needs "
                             "another --out folder")
        if old["kind"] != new["kind"]:
            raise StoreError(f"{where} a {old['kind']} experiment, not a {new['kind']}; use "
                             "another --out folder")
        if old["seed"] != new["seed"]:
            raise StoreError(f"{where} runs with --seed {old['seed']}, not {new['seed']}; repeat "
                             f"with --seed {old['seed']} to resume, or use another --out folder")
        op = {k: v for k, v in old["plan"].items() if k not in growable}
        np_ = {k: v for k, v in new["plan"].items() if k not in growable}
        if _jsonable(op) != _jsonable(np_):
            diff = sorted(k for k in set(op) | set(np_) if _jsonable(op.get(k)) !=
                          _jsonable(np_.get(k)))
            raise StoreError(f"{where} a {old['kind']} with other settings ({', '.join(diff)}: "
                             f"{', '.join(repr(op.get(k)) for k in diff)}); repeat the original "
                             "command to resume, or use another --out folder")

    # -- runs -------------------------------------------------------------------------------------
    def finished(self) -> set[int]:
        """Indices of the runs whose files are all written."""
        folder = self.folder / "runs"
        if not folder.is_dir():
            return set()
        return {i for i in map(_run_index, os.listdir(folder)) if i is not None}

    def write_run(self, run: int, tables: dict[str, pd.DataFrame], marker: pd.DataFrame) -> None:
        """Write every table of ``run``, then its ``runs/`` marker (which makes it finished)."""
        for name, df in tables.items():
            folder = self.folder / "tables" / name
            folder.mkdir(parents=True, exist_ok=True)
            write_parquet_atomic(df, folder / run_file(run))
        write_parquet_atomic(marker, self.folder / "runs" / run_file(run))

    def table_names(self) -> list[str]:
        folder = self.folder / "tables"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def read_table(self, name: str, runs: Iterable[int]) -> pd.DataFrame:
        """Rows of table ``name`` for the finished ``runs``, in run order."""
        wanted = set(runs) & self.finished()
        folder = self.folder / "tables" / name
        files = sorted((i, folder / f) for f in os.listdir(folder)
                       if (i := _run_index(f)) is not None and i in wanted)
        if not files:
            return pd.DataFrame()
        parts = [pq.read_table(path) for _, path in files]
        return pa.concat_tables(parts, promote_options="permissive").to_pandas()

    def clean_stale_temporaries(self) -> int:
        """Remove temporary files left by earlier, killed processes (never this one's)."""
        removed = 0
        for folder in [self.folder, self.folder / "runs",
                       *(self.folder / "tables").glob("*")]:
            if not folder.is_dir():
                continue
            for path in folder.glob(".*.tmp"):
                try:
                    if path.stat().st_mtime < self.started:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def write_stats(self, stats: dict[str, pd.DataFrame]) -> list[Path]:
        folder = self.folder / "stats"
        folder.mkdir(exist_ok=True)
        return [write_parquet_atomic(df, folder / f"{name}.parquet") for name, df in stats.items()]


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_json_default, sort_keys=True))
