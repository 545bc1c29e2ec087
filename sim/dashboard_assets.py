"""The dashboard's browser front-end, served locally (``python -m zcf.sim.dashboard_assets``).

Solara's page loads its JavaScript app (``@widgetti/solara-vuetify3-app``, or
``solara-vuetify-app`` with Vue 2) through the server's CDN proxy, which serves files from
``<prefix>/share/solara/cdn/`` and fetches missing ones from a public CDN. The ``solara-assets``
package fills that folder but may lag behind solara by a version; on a machine that reaches
the npm registry and no CDN, this module fetches the exact version solara's page template asks
for with ``npm pack`` and unpacks it there. ``make test`` runs it; it does nothing when the files
are already present.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

_APP = re.compile(r"\{\{cdn\}\}/(@widgetti/(solara-vuetify3?-app)@(\d+\.\d+\.\d+))/")


def cdn_folder() -> Path:
    """Where solara's CDN proxy looks for files."""
    import solara.server.settings as settings
    return Path(settings.assets.proxy_cache_dir)


def app_packages() -> list[str]:
    """The npm packages (``@widgetti/NAME@VERSION``) solara's page loads with this ipyvue."""
    import ipyvue
    import solara.server
    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    wanted = "solara-vuetify3-app" if ipyvue.__version__.startswith("3") else "solara-vuetify-app"
    return sorted({m.group(1) for m in _APP.finditer(template.read_text()) if m.group(2) == wanted})


def missing() -> list[str]:
    """Packages of ``app_packages()`` whose files are not in ``cdn_folder()``."""
    return [p for p in app_packages() if not (cdn_folder() / p / "dist").is_dir()]


def fetch(package: str, folder: Path | None = None) -> Path:
    """``npm pack`` ``package`` and unpack it into the CDN folder (atomically: a temporary
    folder beside it, then a rename)."""
    folder = folder or cdn_folder()
    target = folder / package
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"the dashboard needs {package} in {folder} and npm is not installed "
                           "to fetch it (apt-get install npm, or reach the CDN)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        subprocess.run([npm, "pack", package, "--silent", "--pack-destination", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        (tgz,) = Path(tmp).glob("*.tgz")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tgz) as tar:
            tar.extractall(unpacked, filter="data")
        (unpacked / "package").rename(Path(tmp) / "ready")
        if not target.exists():
            (Path(tmp) / "ready").rename(target)
    return target


def main() -> int:
    todo = missing()
    for package in todo:
        print(f"fetching {package} from the npm registry into {cdn_folder()}", flush=True)
        fetch(package)
    if not todo:
        print(f"dashboard front-end present in {cdn_folder()}: {', '.join(app_packages())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
