"""Every notebook runs top to bottom in a fresh kernel of this interpreter at its default (small)
parameters; in git the notebooks carry no outputs and open with a parameter cell. (How long each
takes is measured by ``make notebook-times``, not asserted here.)"""
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory) -> list[str]:
    """A ``python3`` kernelspec that starts this very interpreter (the venv's), whatever else is
    installed on the machine."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = folder / "python3"
    spec.mkdir()
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test venv)", "language": "python"}))
    return [str(folder)]


def test_there_are_six_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs_and_opening_with_parameters(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs not stripped"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", []), "first code cell must be the parameters"
    names = set(re.findall(r"^([A-Z_]+) *=", first.source, flags=re.M))
    assert {"FIRMS", "END_YEAR"} <= names
    assert nb.cells[0].cell_type == "markdown" and "**Question:**" in nb.cells[0].source
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path, kernel_dirs, tmp_path):
    nb = nbformat.read(path, as_version=4)
    check = nbformat.v4.new_code_cell(f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable")
    nb.cells.insert(0, check)            # the kernel is this interpreter (not a system Python)
    km = AsyncKernelManager(kernel_name="python3",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    client = NotebookClient(nb, km=km, kernel_name="python3", timeout=300,
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(tmp_path)}})
    # raises CellExecutionError if any cell raises; the kernel is ended either way (nbclient
    # leaves a kernel it did not start running: six idle kernels until the suite ended)
    client.execute(cleanup_kc=True)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 3, f"{path.name} shows {len(figures)} figures"


def test_readme_section_links_every_notebook_and_two_figures():
    text = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in text
    images = re.findall(r"!\[[^\]]*\]\((docs/figures/[^)]+\.png)\)", text)
    assert len(images) >= 2 and all((ROOT / img).stat().st_size > 10_000 for img in images)
