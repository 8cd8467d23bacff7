"""The live demo: Voilà with the course's page template, which asks nothing of the web.

Voilà 0.5's own "lab" page links two Font Awesome stylesheets from a CDN, and the frame of its other pages
(the list of notebooks, errors) a third; the course's template ``course`` (in ``jupyter/voila/templates/course``
next to this file) is that page without them. Voilà finds a template only by its name, in the ``voila/templates``
folder of a Jupyter data directory (``voila.paths.collect_template_paths`` over ``jupyter_path()``: the
``JUPYTER_PATH`` variable, the user's folder, the environment's ``share/jupyter``, the system's), and takes the
name from ``VoilaConfiguration.template``: ``--template=NAME`` on its command line, or a ``voila.json`` in the
current folder or a Jupyter config directory (read by the ``voila`` command and by the server extension behind
JupyterLab's ``/voila/render/``). So:

* :func:`demo_command` starts Voilà with ``JUPYTER_PATH`` pointing here and ``--template=course``: it needs
  nothing installed;
* :func:`install_template` copies the template into an environment's ``share/jupyter`` and makes it Voilà's
  default in its ``etc/jupyter/voila.json``, for JupyterLab's ``/voila/render/`` and a plain ``voila``
  (``python3 course.py setup`` runs it; on Binder and JupyterHub images, the repository's ``postBuild``).
  pip's editable installs never copy a package's data files, so the course cannot leave this to pip.

MathJax: the ``voila`` command hands its pages no MathJax address, and Voilà's page script then uses the MathJax 3
it bundles. The server extension instead fills in cdnjs's address when the Jupyter server's settings have none
(``voila/utils.py``, ``get_page_config``: ``settings.get("mathjax_url", <cdnjs>)``), and the page loads MathJax
from the web. :func:`install_template` therefore also gives the server the same empty setting the ``voila``
command has (``ServerApp.tornado_settings``, in ``etc/jupyter/jupyter_server_config.json``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SERVER_CONFIG", "TEMPLATE", "DemoCommand", "demo_command", "find_notebook", "install_template", "template_folder"]

TEMPLATE = "course"
DATA_DIR = Path(__file__).resolve().parent / "jupyter"  # a Jupyter data directory holding voila/templates/course
#: What the Jupyter server behind JupyterLab's /voila/render/ needs so that Voilà's pages use their bundled MathJax,
#: as the ``voila`` command's do, instead of loading it from a CDN (see the module's docstring).
SERVER_CONFIG = {"ServerApp": {"tornado_settings": {"mathjax_url": None, "mathjax_config": None}}}


def template_folder() -> Path:
    """The course's Voilà template, as shipped in the package."""
    return DATA_DIR / "voila" / "templates" / TEMPLATE


@dataclass(frozen=True)
class DemoCommand:
    argv: list[str]
    env: dict[str, str]
    url: str  # the page to open


def demo_command(notebooks: Path, lesson: str | None = None, port: int = 8866, ip: str = "localhost",
                 open_browser: bool = False, env: dict[str, str] | None = None) -> DemoCommand:
    """Voilà serving the folder ``notebooks`` with the course's template; ``url`` opens ``lesson`` (a file name
    in it) or, with none, the list of every notebook there."""
    base = dict(os.environ if env is None else env)
    # the course's data directory first; what was there before still counts
    base["JUPYTER_PATH"] = os.pathsep.join([str(DATA_DIR), *filter(None, [base.get("JUPYTER_PATH")])])
    argv = [sys.executable, "-m", "voila", f"--template={TEMPLATE}", f"--port={port}", f"--Voila.ip={ip}",
            f"--Voila.root_dir={notebooks}"]
    if not open_browser:
        argv.append("--no-browser")
    url = f"http://{ip}:{port}/" + (f"voila/render/{lesson}" if lesson else "")
    return DemoCommand(argv=argv, env=base, url=url)


def find_notebook(notebooks: Path, name: str) -> str:
    """The file name in ``notebooks`` of the lesson ``name`` (``00``, ``00_overview`` or ``00_overview.ipynb``).

    Raises ``ValueError`` saying which names would do."""
    found = sorted(path.name for path in notebooks.glob("*.ipynb"))
    stem = Path(name).stem
    matches = [n for n in found if Path(n).stem == stem or Path(n).stem.split("_", 1)[0] == stem]
    if len(matches) != 1:
        valid = ", ".join(Path(n).stem for n in found) or "none"
        raise ValueError(f"no single lesson {name!r} in {notebooks}; the lessons there are: {valid}")
    return matches[0]


def install_template(prefix: Path) -> list[Path]:
    """Copy the template into ``PREFIX/share/jupyter/voila/templates/course`` and set it as Voilà's template in
    ``PREFIX/etc/jupyter/voila.json`` (keeping whatever else that file configures). Returns the files written."""
    target = prefix / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(template_folder(), target)
    written = sorted(path for path in target.rglob("*") if path.is_file())
    etc = prefix / "etc" / "jupyter"
    config_path = _merge_config(etc / "voila.json", ("VoilaConfiguration",), {"template": TEMPLATE})
    # The server's own settings are read from jupyter_server_config.json, not from the .d folder (which only
    # enables extensions), so the setting is merged into that file, keeping whatever else it holds.
    server_path = _merge_config(etc / "jupyter_server_config.json", ("ServerApp", "tornado_settings"),
                                SERVER_CONFIG["ServerApp"]["tornado_settings"])
    return [*written, config_path, server_path]


def _merge_config(path: Path, section: tuple[str, ...], values: Mapping[str, object]) -> Path:
    """Set ``values`` in the JSON config file ``path`` under ``section`` (nested keys), keeping the rest of it."""
    config = _read_config(path)
    node: dict[str, object] = config
    for depth, key in enumerate(section):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"{path}: {'.'.join(section[:depth + 1])} is not an object")
        node = child
    node.update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def _read_config(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); fix or remove it") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} does not hold a JSON object; fix or remove it")
    return config
