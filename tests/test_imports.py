"""The package's modules import each other without cycles (counting imports inside functions too),
and no import hides behind ``try/except ImportError``."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"sim": "zcf.sim", "agents": "zcf.agents", "ext": "zcf.ext", "experiments": "zcf.experiments"}


def modules() -> dict[str, Path]:
    found = {}
    for folder, name in PACKAGES.items():
        for path in (ROOT / folder).glob("*.py"):
            mod = name if path.stem == "__init__" else f"{name}.{path.stem}"
            found[mod] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every package module ``path`` imports, at module level or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        out |= {n for n in names if n in known}
    return out


def test_no_import_cycles():
    mods = modules()
    graph = {m: imports_of(p, set(mods)) - {m} for m, p in mods.items()}
    # a package's __init__ importing its own modules is the package's face, not a cycle
    for m in graph:
        if m in PACKAGES.values():
            graph[m] = {d for d in graph[m] if not d.startswith(m + ".")}
    cycles, state = [], {}

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", sorted(modules().values()), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_import_hidden_in_try_except_import_error(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Try):
            caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(ast.Module(node.body, [])))
            assert not (has_import and caught & {"ImportError", "ModuleNotFoundError"}), \
                f"{path}: an import inside try/except ImportError"
