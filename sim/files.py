"""The one path by which scenario and factory files are read: every failure is one clear line.

``read_toml(path)`` opens, decodes and parses a TOML file; any OS error (missing, a folder, no
permission, a symbolic-link loop, a name too long), a byte that is not UTF-8, bad TOML or tables
nested too deeply becomes a ``ScenarioError`` that names the file (and, for a parent scenario,
the file and key that named it) and says what is allowed. ``resolve(ref, named_by)`` finds the
file a scenario name or path refers to: a path in ``extends`` is looked up beside the file that
names it, never in the current folder.
"""
from __future__ import annotations

import os
import stat
import tomllib
from importlib import resources
from pathlib import Path

from zcf.sim.errors import InputError

MAX_BYTES = 10 * 2**20        # a scenario or factory file is a few kB; refuse anything near this
MAX_DEPTH = 16                # deepest legitimate nesting is about 5 (uncertainty key tables)


class ScenarioError(InputError):
    """A scenario or factory file that cannot be used; the message names file, key and range."""


def packaged_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = resources.files("zcf.sim").joinpath("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def packaged_path(name: str) -> Path:
    return Path(str(resources.files("zcf.sim").joinpath("scenarios", f"{name}.toml")))


def _why(e: OSError) -> str:
    return e.strerror or type(e).__name__


def _where(path: Path | str, named_by: tuple[Path, str] | None) -> str:
    """The start of a message about ``path``; the problem follows after ': '."""
    if named_by is None:
        return f"{path}"
    return f"{named_by[0]}: key '{named_by[1]}': {str(path)!r}"


def read_toml(path: Path | str, named_by: tuple[Path, str] | None = None,
              what: str = "TOML file") -> dict:
    """The parsed contents of the TOML file ``path`` (``ScenarioError`` for anything else).

    ``named_by`` = (file, key) that referred to ``path`` (e.g. a child scenario's ``extends``), so
    the message names both.
    """
    where = _where(path, named_by)
    allowed = f"allowed: a readable UTF-8 {what} of at most {MAX_BYTES // 2**20} MB"
    if str(path) == "":
        raise ScenarioError(f"an empty name is not a file; {allowed}")
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ScenarioError(f"{where}: is not a regular file; {allowed}")
            data = fh.read(MAX_BYTES + 1)
    except ScenarioError:
        raise
    except FileNotFoundError:
        raise ScenarioError(f"{where}: no such file; {allowed}") from None
    except IsADirectoryError:
        raise ScenarioError(f"{where}: is a folder, not a file; {allowed}") from None
    except OSError as e:
        raise ScenarioError(f"{where}: cannot be read ({_why(e)}); {allowed}") from None
    except ValueError as e:            # e.g. an embedded NUL byte in the name
        raise ScenarioError(f"{str(path)!r} is not a usable file name ({e}); {allowed}") from None
    if len(data) > MAX_BYTES:
        raise ScenarioError(f"{where}: is larger than {MAX_BYTES // 2**20} MB; {allowed}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{where}: is not UTF-8 text (byte {data[e.start]:#04x} at offset "
                            f"{e.start}); {allowed}") from None
    depth = bracket_depth(text)
    if depth > MAX_DEPTH:             # refused before the (recursive) parser goes that deep
        raise ScenarioError(f"{where}: arrays or tables nested too deeply ({depth} levels); "
                            f"allowed: at most {MAX_DEPTH} levels")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{where}: not valid TOML: {e}; allowed: TOML 1.0 syntax "
                            "(https://toml.io)") from None
    except RecursionError:
        raise ScenarioError(f"{where}: arrays or tables nested too deeply; allowed: at most "
                            f"{MAX_DEPTH} levels") from None
    depth = nesting_depth(raw)
    if depth > MAX_DEPTH:
        raise ScenarioError(f"{where}: arrays or tables nested {depth} levels deep; allowed: at "
                            f"most {MAX_DEPTH} levels")
    return raw


def _string_end(text: str, i: int) -> int:
    """The index just past the TOML string that starts at ``text[i]`` (a quote)."""
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    close = quote * 3 if triple else quote
    j = i + len(close)
    while j < len(text):
        if quote == '"' and text[j] == "\\":
            j += 2                     # an escaped character (basic strings only)
            continue
        if text.startswith(close, j):
            return j + len(close)
        if not triple and text[j] == "\n":
            return j                   # an unterminated one-line string: the parser says so
        j += 1
    return len(text)


def bracket_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in the TOML ``text`` (outside strings and comments),
    counted without recursion, so that a file nested thousands deep is refused before the
    recursive parser reads it."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'":
            i = _string_end(text, i)
            continue
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return deepest


def nesting_depth(value) -> int:
    """How deeply lists and tables nest in ``value`` (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((c, depth + 1) for c in children)
    return deepest


def real_path(path: Path) -> Path:
    """``path`` with symbolic links resolved as far as possible (never raises on loops)."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError, RuntimeError):
        return Path(os.path.abspath(path))


def _looks_like_path(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref or os.sep in ref or ref in (".", "..")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def resolve(ref, named_by: tuple[Path, str] | None = None) -> Path:
    """The file a scenario reference names.

    From the command line or Python (``named_by`` None): a file path (relative to the current
    folder) or a packaged scenario name. From a scenario's ``extends`` (``named_by`` = (file,
    key)): a path relative to that file's folder, the name of a file beside it (``.toml``
    optional), or a packaged scenario name.
    """
    packaged = packaged_names()
    allowed = (f"allowed: a path to a TOML file or a packaged scenario ({', '.join(packaged)})")
    if named_by is not None and not isinstance(ref, str):
        raise ScenarioError(f"{named_by[0]}: key '{named_by[1]}' must be a scenario name or path "
                            f"(a string); {allowed}; got {ref!r}")
    ref = os.fspath(ref) if isinstance(ref, os.PathLike) else ref
    if not isinstance(ref, str) or ref.strip() == "":
        where = f"{named_by[0]}: key '{named_by[1]}'" if named_by else "the scenario"
        raise ScenarioError(f"{where} is empty; {allowed}")
    if named_by is None:
        p = Path(ref)
        if _is_file(p) or _looks_like_path(ref):
            return p
        if ref in packaged:
            return packaged_path(ref)
        if _exists(p):
            return p                # a folder or special file: read_toml says what is wrong
        raise ScenarioError(f"no scenario {ref!r}: not a file nor a packaged scenario; {allowed}")
    here = named_by[0].parent
    cand = here / ref                # an absolute ``ref`` stays absolute
    tries = [cand]
    if not ref.endswith(".toml") and cand.name not in ("", ".", ".."):
        tries.append(cand.with_name(cand.name + ".toml"))
    for c in tries:
        if _is_file(c):
            return c
    if ref in packaged:
        return packaged_path(ref)
    if _looks_like_path(ref) or _exists(cand):
        return cand                  # read_toml names the file and key and says what is wrong
    raise ScenarioError(f"{named_by[0]}: key '{named_by[1]}': no scenario {ref!r}: no file "
                        f"{' or '.join(str(t) for t in tries)} nor a packaged scenario; {allowed}")
