"""The live demo's Voilà template: Voilà's own "lab" page without what it loads from the web, found the way
Voilà finds templates, installed where JupyterLab's ``/voila/render/`` and a plain ``voila`` look.

The browser tests (``tests/browser/test_publish_offline.py``) open every lesson through it with the network cut.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from voila.paths import collect_template_paths

from labsupport.course._voila import DATA_DIR, TEMPLATE, demo_command, find_notebook, install_template, template_folder

ROOT = Path(__file__).resolve().parents[2]
VOILA_DATA = Path(sys.prefix) / "share" / "jupyter" / "voila" / "templates"  # where Voilà installed its own
CDN_LINK = re.compile(r'\s*<link rel="stylesheet" href="https://[^"]+" type="text/css" />\n')


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"\{%-? block " + name + r" -?%\}(.*?)\{%-? endblock(?: " + name + r")? -?%\}", re.S)


def _block(text: str, name: str) -> str:
    match = _block_pattern(name).search(text)
    assert match, f"no block {name}"
    return match.group(1)


def test_the_page_is_voilas_lab_page_without_its_cdn_stylesheets() -> None:
    """The block the template overrides is Voilà's, less the two CDN links; its last line skips to nbconvert's."""
    voila_block = _block((VOILA_DATA / "lab" / "index.html.j2").read_text(encoding="utf-8"), "notebook_css")
    ours = _block((template_folder() / "index.html.j2").read_text(encoding="utf-8"), "notebook_css")
    assert len(CDN_LINK.findall(voila_block)) == 2, "Voilà's lab page changed: look at it again"
    assert _normal(CDN_LINK.sub("", voila_block).replace("{{ super() }}", "{{ super.super() }}")) == _normal(ours)
    assert "https://" not in ours


def test_the_frame_of_the_other_pages_is_voilas_without_its_cdn_stylesheet() -> None:
    base = (VOILA_DATA / "base" / "page.html").read_text(encoding="utf-8")
    lab = (VOILA_DATA / "lab" / "page.html").read_text(encoding="utf-8")
    ours = (template_folder() / "page.html").read_text(encoding="utf-8")
    ours = ours[ours.index("<!DOCTYPE"):]
    assert len(CDN_LINK.findall(base)) == 1
    lab_block = _block_pattern("stylesheets").search(lab)
    assert lab_block
    expected = _block_pattern("stylesheets").sub(lambda _: lab_block.group(0), CDN_LINK.sub("\n", base), count=1)
    assert _normal(ours) == _normal(expected)


def _normal(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_voila_finds_it_by_name_before_lab_and_base() -> None:
    root_dirs = [str(DATA_DIR), str(Path(sys.prefix) / "share" / "jupyter")]
    paths = collect_template_paths(["voila", "nbconvert"], TEMPLATE, prune=True, root_dirs=root_dirs)
    assert paths[0] == str(template_folder())
    assert paths.index(str(VOILA_DATA / "lab")) < paths.index(str(VOILA_DATA / "base"))


def test_the_notebook_list_links_nothing_from_the_web() -> None:
    """The list of notebooks, rendered from the same search path as Voilà's server extension builds."""
    root_dirs = [str(DATA_DIR), str(Path(sys.prefix) / "share" / "jupyter")]
    paths = collect_template_paths(["voila", "nbconvert"], TEMPLATE, root_dirs=root_dirs)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(paths), extensions=["jinja2.ext.i18n"], autoescape=True)
    env.install_null_translations()
    html = env.get_template("tree-lab.html").render(
        page_title="lessons", base_url="/", frontend="voila", theme="light", include_css=lambda name: f"/{name}",
        page_config={"fullStaticUrl": "/voila/static"})
    linked = re.findall(r'<(?:link|script)[^>]*(?:href|src)="([^"]+)"', html)
    assert linked and not [url for url in linked if "//" in url], linked


def test_install_writes_the_template_and_keeps_the_rest_of_voila_json(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "jupyter" / "voila.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"VoilaConfiguration": {"show_tracebacks": True}, "Voila": {"port": 9000}}))
    written = install_template(tmp_path)
    target = tmp_path / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in template_folder().iterdir())
    server = tmp_path / "etc" / "jupyter" / "jupyter_server_config.json"
    server.write_text(json.dumps({"ServerApp": {"tornado_settings": {"xsrf_cookies": True}, "port": 9999}}))
    written = install_template(tmp_path)
    assert written[-2:] == [config, server] and len(written) == 5
    assert json.loads(config.read_text()) == {"VoilaConfiguration": {"show_tracebacks": True, "template": TEMPLATE},
                                              "Voila": {"port": 9000}}
    # the server behind JupyterLab's /voila/render/ hands Voilà no MathJax address, as the voila command does
    assert json.loads(server.read_text()) == {"ServerApp": {"port": 9999, "tornado_settings": {
        "xsrf_cookies": True, "mathjax_url": None, "mathjax_config": None}}}
    install_template(tmp_path)  # again: the same result
    assert json.loads(config.read_text())["VoilaConfiguration"]["template"] == TEMPLATE
    assert json.loads(server.read_text())["ServerApp"]["tornado_settings"]["mathjax_url"] is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"VoilaConfiguration": 3}'])
def test_install_says_what_is_wrong_with_a_broken_voila_json(tmp_path: Path, content: str) -> None:
    config = tmp_path / "etc" / "jupyter" / "voila.json"
    config.parent.mkdir(parents=True)
    config.write_text(content)
    with pytest.raises(ValueError, match="voila.json"):
        install_template(tmp_path)
    assert config.read_text() == content


def test_this_environment_has_the_template_installed_as_voilas_default() -> None:
    """``python3 course.py setup`` installs it (and reinstalls when the template changes)."""
    installed = VOILA_DATA / TEMPLATE
    hint = "run `python3 course.py setup` (or `labsupport demo --install`)"
    assert installed.is_dir(), hint
    for source in template_folder().iterdir():
        assert (installed / source.name).read_bytes() == source.read_bytes(), f"{source.name} is stale: {hint}"
    config = json.loads((Path(sys.prefix) / "etc" / "jupyter" / "voila.json").read_text())
    assert config["VoilaConfiguration"]["template"] == TEMPLATE
    server = json.loads((Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["tornado_settings"]["mathjax_url"] is None, hint


def test_demo_command_serves_the_notebooks_with_the_template(tmp_path: Path) -> None:
    command = demo_command(tmp_path, "00_overview.ipynb", port=9999, ip="127.0.0.1", env={"JUPYTER_PATH": "/x"})
    assert command.argv[1:] == ["-m", "voila", f"--template={TEMPLATE}", "--port=9999", "--Voila.ip=127.0.0.1",
                                f"--Voila.root_dir={tmp_path}", "--no-browser"]
    assert command.env["JUPYTER_PATH"].split(":") == [str(DATA_DIR), "/x"]
    assert command.url == "http://127.0.0.1:9999/voila/render/00_overview.ipynb"
    assert demo_command(tmp_path, env={}).url == "http://localhost:8866/"
    assert demo_command(tmp_path, env={}).env["JUPYTER_PATH"] == str(DATA_DIR)


def test_find_notebook_by_number_or_name_and_says_what_would_do() -> None:
    notebooks = ROOT / "notebooks"
    assert find_notebook(notebooks, "00") == "00_overview.ipynb"
    assert find_notebook(notebooks, "05_mesh") == "05_mesh.ipynb"
    assert find_notebook(notebooks, "06_serverless.ipynb") == "06_serverless.ipynb"
    with pytest.raises(ValueError, match="00_overview, 01_packaging"):
        find_notebook(notebooks, "9")


def test_the_demo_command_rejects_a_wrong_lesson_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, "-m", "labsupport", "demo", "9"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("error: no single lesson '9'") and "Traceback" not in done.stderr
