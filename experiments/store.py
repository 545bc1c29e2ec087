"""The result store: a Parquet dataset under ``--out``, one file per run and table, resumable.

Layout::

    OUT/manifest.json                     what the experiment is, and every finished file's
                                          size and SHA-256 (see below)
    OUT/tables/TABLE/run-000042.parquet   the rows of run 42 of table TABLE (emissions, summary ...)
    OUT/runs/run-000042.parquet           run 42's marker: one row (run, seed, values drawn)
    OUT/stats/TABLE.parquet               mean, sd, quantiles per year and group (at the end)
    OUT/figures/*.png                     with --plot
    OUT/.lock                             held (``flock``) by the process writing the folder

``pd.read_parquet("OUT/tables/emissions")`` reads every table file of the folder. Every file is
written under a temporary name starting with ``.`` (which pyarrow and this module ignore) and then
renamed with ``os.replace``, so nothing half-written is ever read back. A run's tables are written
first, then its marker, then the manifest records the size and checksum of each: a run counts as
finished only once the manifest says so, so a run killed half-way is simply run again (with
identical results) when the command is repeated.

The manifest holds the kind of experiment, the scenario (name, source, digest, merged contents),
the seed, the package version, the plan (e.g. ``runs``, a sweep grid, a sensitivity design), per
run its seed and the parameter values drawn, ``finished`` (run -> file -> [bytes, sha256]),
``files`` (stats and other outputs, the same way) and ``checksum``, the SHA-256 of everything else
in it, so that an edit by hand (a seed changed) or damage is noticed. Opening a folder:

- that holds another experiment (other scenario digest, seed, kind or plan) raises
  ``StoreError``, as does a manifest that is damaged, edited or not a manifest at all;
- to resume (``open``) verifies every finished run's files and forgets the runs whose files are
  missing or damaged, which are then run again (``damaged`` says which and why);
- to read (``verify``, used by ``experiments.load``) refuses any missing or damaged file.

A second process cannot write the folder while one holds its lock (``StoreError``).

Objects here: ``StoreError``, ``write_parquet_atomic``, ``write_json_atomic``,
``write_csv_atomic``, ``write_text_atomic``, ``RunStore``.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# not POSIX: no lock (the manifest checks still apply)
fcntl = importlib.import_module("fcntl") if importlib.util.find_spec("fcntl") else None

FORMAT = "zcf-experiment/2"
RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
LOCK_NAME = ".lock"
REQUIRED = {"format": str, "kind": str, "scenario": dict, "seed": int, "plan": dict,
            "runs": list, "finished": dict, "files": dict, "checksum": str}


class StoreError(ValueError):
    """An output folder that cannot be used for this experiment."""


class StoreWarning(UserWarning):
    """Finished runs whose files were missing or damaged are being run again."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def write_bytes_atomic(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` under a temporary name, then rename it into place."""
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` under a temporary name, then rename it into place."""
    return write_bytes_atomic(parquet_bytes(df), path)


def write_csv_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as CSV (no index) under a temporary name, then rename it into place."""
    return write_text_atomic(df.to_csv(index=False), path)


def write_text_atomic(text: str, path: Path) -> Path:
    """Write ``text`` (UTF-8) under a temporary name, then rename it into place."""
    return write_bytes_atomic(text.encode(), path)


def write_json_atomic(obj: Any, path: Path) -> Path:
    text = json.dumps(obj, indent=1, default=_json_default, sort_keys=False)
    return write_text_atomic(text, path)


def _json_default(value: Any):
    if hasattr(value, "item"):          # numpy scalars
        return value.item()
    return str(value)


def file_record(data: bytes) -> list:
    """[size in bytes, SHA-256 hex] of a file's contents."""
    return [len(data), hashlib.sha256(data).hexdigest()]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def manifest_checksum(manifest: dict) -> str:
    """SHA-256 of the manifest without its ``checksum`` as canonical JSON (sorted keys, no
    spaces): indentation and key order in the file do not matter."""
    return hashlib.sha256(_canonical({k: v for k, v in manifest.items()
                                      if k != "checksum"}).encode()).hexdigest()


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
        self._manifest: dict | None = None      # the open manifest (writer side)
        self._dirty = self._compact = False
        self._unflushed = 0                     # runs recorded since the manifest was written
        self._pieces: dict[str, str] = {}       # run -> its canonical JSON record
        self._static: dict[str, str] = {}
        self._lock_fh = None
        self.damaged: dict[int, str] = {}       # run -> why it is run again (set by ``open``)

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    # -- reading and checking the manifest ------------------------------------------------------
    def manifest(self) -> dict | None:
        """The stored manifest, checked (``None`` for a folder without one)."""
        path = self.manifest_path
        if not os.path.lexists(path):
            return None
        again = "; it cannot be trusted: use another --out folder"
        try:
            text = path.read_bytes().decode("utf-8")
            man = json.loads(text)
        except OSError as e:
            raise StoreError(f"{path}: cannot be read ({e.strerror or e})") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise StoreError(f"{path}: damaged, not JSON ({e}){again}") from None
        if not isinstance(man, dict):
            raise StoreError(f"{path}: not an experiment manifest (holds a JSON "
                             f"{type(man).__name__}, not an object){again}")
        if man.get("format") != FORMAT:
            raise StoreError(f"{path}: holds {man.get('format')!r} results, not {FORMAT!r} (made "
                             "by another version of the package); use another --out folder")
        bad = [k for k, t in REQUIRED.items() if not isinstance(man.get(k), t)
               or isinstance(man.get(k), bool)]
        if bad:
            raise StoreError(f"{path}: damaged: key {bad[0]!r} is missing or not a "
                             f"{REQUIRED[bad[0]].__name__}{again}")
        if manifest_checksum(man) != man["checksum"]:
            raise StoreError(f"{path}: edited or damaged (its contents no longer match its "
                             f"checksum){again}")
        try:
            self._finished_table(man)
        except (TypeError, ValueError):
            raise StoreError(f"{path}: damaged: 'finished' is not run -> file -> [bytes, "
                             f"sha256]{again}") from None
        return man

    @staticmethod
    def _finished_table(man: dict) -> dict[int, dict[str, list]]:
        out = {}
        for run, files in man["finished"].items():
            if not isinstance(files, dict) or not files:
                raise ValueError(run)
            for rel, rec in files.items():
                if not (isinstance(rec, list) and len(rec) == 2 and isinstance(rec[0], int)
                        and isinstance(rec[1], str)):
                    raise ValueError(rel)
            out[int(run)] = files
        return out

    def _check_file(self, rel: str, rec: list, full: bool) -> str | None:
        """Why the file ``rel`` does not match its record (``None`` when it does)."""
        path = self.folder / rel
        try:
            size = path.stat().st_size
            if size != rec[0]:
                return f"{rel}: {size} bytes, the manifest says {rec[0]}"
            if full:
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                if digest != rec[1]:
                    return f"{rel}: contents differ from the manifest's checksum"
        except FileNotFoundError:
            return f"{rel}: missing"
        except OSError as e:
            return f"{rel}: cannot be read ({e.strerror or e})"
        return None

    def _run_problems(self, man: dict, full: bool) -> dict[int, str]:
        problems = {}
        for run, files in self._finished_table(man).items():
            for rel, rec in files.items():
                why = self._check_file(rel, rec, full)
                if why:
                    problems[run] = why
                    break
        return problems

    def verify(self) -> dict:
        """The manifest, after checking every finished file in full (``StoreError`` naming the
        first missing or damaged file)."""
        man = self.manifest()
        if man is None:
            raise StoreError(f"{self.folder}: no manifest.json; not an experiment folder")
        problems = list(self._run_problems(man, full=True).values())
        problems += [w for rel, rec in man["files"].items()
                     if (w := self._check_file(rel, rec, full=True))]
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise StoreError(f"{self.folder}: damaged: {problems[0]}{more}; repeat the command "
                             "that made it to run the damaged runs again")
        return man

    # -- writing ---------------------------------------------------------------------------------
    def _lock(self) -> None:
        """Hold ``OUT/.lock`` while writing (released when this process ends, however)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise StoreError(f"{self.folder}: exists and is not a folder; use another --out "
                             "folder") from None
        except OSError as e:
            raise StoreError(f"{self.folder}: cannot create the folder ({e.strerror or e})") \
                from None
        if not self.folder.is_dir():
            raise StoreError(f"{self.folder}: exists and is not a folder; use another --out folder")
        if fcntl is None or self._lock_fh is not None:
            return
        path = self.folder / LOCK_NAME
        fh = open(path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StoreError(f"{self.folder} is being written by another zcf process ({holder}); "
                             "wait for it to finish, or use another --out folder") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}: {' '.join(sys.argv)[:200]}\n")
        fh.flush()
        self._lock_fh = fh

    def _unlock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()          # closing the file releases the flock
            self._lock_fh = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Write the manifest (indented) if needed and release the lock."""
        try:
            self.flush(pretty=True)
        finally:
            self._manifest = None
            self._pieces, self._static = {}, {}
            self._unlock()

    def open(self, manifest: dict, growable: tuple[str, ...] = ()) -> None:
        """Start or resume (holding the folder's lock until ``close``): refuse a folder that holds
        a different experiment; forget finished runs whose files are missing or damaged (they
        are listed in ``self.damaged`` and run again).

        ``growable`` names plan entries that may grow on resume (``runs`` of a Monte Carlo); the
        stored manifest is then rewritten with the larger plan.
        """
        self._lock()
        try:
            old = self.manifest()
            if old is None:
                if (self.folder / "runs").is_dir() and any((self.folder / "runs").iterdir()):
                    raise StoreError(f"{self.folder}: holds runs but no manifest.json; use "
                                     "another --out folder")
                for sub in ("tables", "runs"):
                    (self.folder / sub).mkdir(parents=True, exist_ok=True)
                self._manifest = {**manifest, "finished": {}, "files": {}}
                self._dirty = True
                self.flush()
                return
            self._check_same(old, manifest, growable)
            self.damaged = self._run_problems(old, full=True)
            finished = {r: f for r, f in old["finished"].items() if int(r) not in self.damaged}
            grown = any(manifest["plan"].get(k, 0) > old["plan"].get(k, 0) for k in growable)
            base = {**manifest, "created": old.get("created")} if grown else old
            self._manifest = {**base, "finished": finished, "files": old["files"]}
            self._dirty = grown or bool(self.damaged)
            for run in self.damaged:
                self._remove_run_files(old["finished"][str(run)])
            self.flush()
        except BaseException:
            self._unlock()
            raise

    def _remove_run_files(self, files: dict) -> None:
        for rel in files:
            try:
                (self.folder / rel).unlink()
            except OSError:
                pass

    def flush(self, pretty: bool = False) -> None:
        """Write the manifest (with its checksum) if it changed.

        The checksum is that of the canonical JSON text (``manifest_checksum``), assembled from
        cached pieces: a finished run's record is serialised once, so recording a run costs
        little even with thousands in the manifest. Written compact while runs finish, indented
        once at ``close``.
        """
        if self._manifest is None or not (self._dirty or (pretty and self._compact)):
            return
        body = self._canonical_body()
        self._manifest["checksum"] = hashlib.sha256(body.encode()).hexdigest()
        if pretty:
            write_json_atomic(self._manifest, self.manifest_path)
        else:
            head = '{"checksum":' + json.dumps(self._manifest["checksum"])
            write_bytes_atomic((head + ("," + body[1:] if len(body) > 2 else "}")).encode(),
                               self.manifest_path)
        self._dirty, self._compact, self._unflushed = False, not pretty, 0

    def _canonical_body(self) -> str:
        man, parts = self._manifest, []
        for key in sorted(k for k in man if k != "checksum"):
            if key == "finished":
                done = man["finished"]
                for run in done:
                    if run not in self._pieces:
                        self._pieces[run] = f"{json.dumps(run)}:{_canonical(done[run])}"
                text = "{" + ",".join(self._pieces[r] for r in sorted(done)) + "}"
            elif key in ("runs", "scenario"):           # large and fixed while open
                if key not in self._static:
                    self._static[key] = _canonical(man[key])
                text = self._static[key]
            else:
                text = _canonical(man[key])
            parts.append(f"{json.dumps(key)}:{text}")
        return "{" + ",".join(parts) + "}"

    def _check_same(self, old: dict, new: dict, growable: tuple[str, ...]) -> None:
        where = f"{self.folder} holds"
        o, n = old["scenario"], new["scenario"]
        if o.get("digest") != n["digest"]:
            raise StoreError(f"{where} results of scenario {o.get('name')!r} (digest "
                             f"{o.get('digest')}, from {o.get('source')}); this is scenario "
                             f"{n['name']!r} (digest {n['digest']}): a different scenario (or "
                             "--firms/--years) needs another --out folder")
        if old["kind"] != new["kind"]:
            raise StoreError(f"{where} a {old['kind']} experiment, not a {new['kind']}; use "
                             "another --out folder")
        if old["seed"] != new["seed"]:
            raise StoreError(f"{where} runs with --seed {old['seed']}, not {new['seed']}; repeat "
                             f"with --seed {old['seed']} to resume, or use another --out folder")
        op = {k: v for k, v in old["plan"].items() if k not in growable}
        np_ = {k: v for k, v in new["plan"].items() if k not in growable}
        if jsonable(op) != jsonable(np_):
            diff = sorted(k for k in set(op) | set(np_) if jsonable(op.get(k)) !=
                          jsonable(np_.get(k)))
            raise StoreError(f"{where} a {old['kind']} with other settings ({', '.join(diff)}: "
                             f"{', '.join(repr(op.get(k)) for k in diff)}); repeat the original "
                             "command to resume, or use another --out folder")
        for a, b in zip(jsonable(old["runs"]), jsonable(new["runs"])):
            if a != b:
                raise StoreError(f"{where} a run {a.get('run') if isinstance(a, dict) else '?'} "
                                 "with other seed or values than this version of the package "
                                 f"plans ({old.get('package', {}).get('version', '?')} made it); "
                                 "use another --out folder")

    # -- runs -------------------------------------------------------------------------------------
    def finished(self) -> set[int]:
        """Indices of the runs recorded as finished whose files are all there at the recorded
        size (``open`` and ``verify`` also compare checksums)."""
        man = self._manifest
        if man is None:
            try:
                man = self.manifest()
            except StoreError:
                return set()
            if man is None:
                return set()
        bad = self._run_problems(man, full=False)
        return {int(r) for r in man["finished"] if int(r) not in bad}

    def write_run(self, run: int, tables: dict[str, pd.DataFrame], marker: pd.DataFrame,
                  flush: bool = True) -> None:
        """Write every table of ``run``, then its ``runs/`` marker, then record them all in the
        manifest (which makes the run finished)."""
        if self._manifest is None:
            raise StoreError(f"{self.folder}: not open for writing")
        record = {}
        for name, df in tables.items():
            folder = self.folder / "tables" / name
            folder.mkdir(parents=True, exist_ok=True)
            data = parquet_bytes(df)
            write_bytes_atomic(data, folder / run_file(run))
            record[f"tables/{name}/{run_file(run)}"] = file_record(data)
        data = parquet_bytes(marker)
        write_bytes_atomic(data, self.folder / "runs" / run_file(run))
        record[f"runs/{run_file(run)}"] = file_record(data)
        self._manifest["finished"][str(run)] = record
        self._dirty = True
        self._unflushed += 1
        # record at once while the manifest is small; later every 1% of the finished runs, so
        # that recording stays a small share of the time (a kill loses at most those runs)
        if flush and self._unflushed >= max(1, len(self._manifest["finished"]) // 100):
            self.flush()

    def table_names(self) -> list[str]:
        folder = self.folder / "tables"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def read_table(self, name: str, runs: Iterable[int], check: bool = True) -> pd.DataFrame:
        """Rows of table ``name`` for the finished ``runs``, in run order (``check=False``:
        the caller already knows ``runs`` are finished)."""
        wanted = set(runs) & self.finished() if check else set(runs)
        folder = self.folder / "tables" / name
        files = sorted((i, folder / f) for f in os.listdir(folder)
                       if (i := _run_index(f)) is not None and i in wanted)
        if not files:
            return pd.DataFrame()
        try:
            parts = [pq.read_table(path) for _, path in files]
        except (OSError, pa.ArrowException) as e:
            raise StoreError(f"{folder}: a run file cannot be read ({e}); repeat the command that "
                             "made it to run damaged runs again") from None
        return pa.concat_tables(parts, promote_options="permissive").to_pandas()

    def clean_stale_temporaries(self) -> int:
        """Remove temporary files left by earlier, killed processes (never this one's)."""
        removed = 0
        for folder in [self.folder, self.folder / "runs", self.folder / "stats",
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

    def add_files(self, files: dict[str, bytes]) -> list[Path]:
        """Write other outputs (relative path -> contents) and record them in the manifest."""
        was_open = self._manifest is not None
        if not was_open:
            self._lock()
            try:
                self._manifest = self.manifest()
            except BaseException:
                self._unlock()
                raise
            if self._manifest is None:
                self._unlock()
                raise StoreError(f"{self.folder}: no manifest.json; not an experiment folder")
        try:
            paths = []
            for rel, data in files.items():
                path = self.folder / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                paths.append(write_bytes_atomic(data, path))
                self._manifest["files"][rel] = file_record(data)
            self._dirty = True
        finally:
            if not was_open:
                self.close()
        return paths

    def write_stats(self, stats: dict[str, pd.DataFrame]) -> list[Path]:
        return self.add_files({f"stats/{name}.parquet": parquet_bytes(df)
                               for name, df in stats.items()})


def jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=_json_default, sort_keys=True))
