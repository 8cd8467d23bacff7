"""Slides and the static site: the marking, the figures' HTML, the live panels' recording, the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from labsupport.cli import main
from labsupport.course import BuildError, Lesson, build_lesson, find_lessons
from labsupport.course._publish import PLOTLY_MIME, Figures, compact, lesson_goals, markdown_html, select_lessons
from labsupport.course._slides import deck_html, slide_plan
from labsupport.sim.overview import run_overview
from labsupport.views import animate, publishing
from labsupport.views._scene import text_alternative
from labsupport.views.overview import OverviewScene, overview_panel

ROOT = Path(__file__).resolve().parents[2]


def _md(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_slide_plan_follows_the_tags() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        _md("# Title", "slide"), _md("said aloud", "notes"), _md("goals", "fragment"), _md("not in the deck"),
        _md("## Two", "slide"), _md("### Two, below", "subslide"), _md("below's notes", "notes"),
        _md("## Three", "slide")])
    plan = slide_plan(nb)
    assert [[[c.source for c, _ in s.cells] for s in column] for column in plan] == [
        [["# Title", "goals"]], [["## Two"], ["### Two, below"]], [["## Three"]]]
    assert [c.source for c in plan[0][0].notes] == ["said aloud"]
    assert [fragment for _, fragment in plan[0][0].cells] == [False, True]
    assert [c.source for c in plan[1][1].notes] == ["below's notes"]
    deck = deck_html(nb, "99_test")
    assert deck.count("<section>") == 5  # three columns, one of them holding two vertical slides
    assert '<aside class="notes"><p>said aloud</p>' in deck and '<div class="fragment"><p>goals</p>' in deck
    assert "not in the deck" not in deck
    assert re.findall(r'(?:src|href)="([^"]+)"', deck) == [
        "assets/reveal.js/reveal.css", "assets/reveal.js/theme/white.css", "assets/code.css",
        "assets/labsupport.css", "assets/plotly.min.js", "assets/reveal.js/reveal.js",
        "assets/reveal.js/plugin/notes.js", "assets/labsupport-figures.js"]


@pytest.mark.parametrize("lesson", find_lessons(ROOT / "lessons"), ids=lambda lesson: lesson.slug)
def test_every_lesson_marks_a_deck_with_notes_predictions_and_animations(lesson: Lesson) -> None:
    nb = build_lesson(lesson, "student")
    plan = slide_plan(nb)
    slides = [slide for column in plan for slide in column]
    assert len(slides) >= 6, f"{lesson.slug}: {len(slides)} slides"
    assert plan[0][0].cells[0][0].source.startswith("# "), "the deck starts with the lesson's title"
    assert sum(len(s.notes) for s in slides) >= 2, "speaker notes"
    text = "\n".join(cell.source for s in slides for cell, _ in s.cells)
    assert "**Predict" in text
    code = [cell.source for s in slides for cell, _ in s.cells if cell.cell_type == "code"]
    assert any("animate(" in c or "_figure(" in c for c in code), "an animation or a figure"
    assert any("_panel(" in c for c in code), "the live panel"


def test_a_figure_is_a_figure_with_its_text_alternative_and_keyboard_controls() -> None:
    trace = run_overview(seed=0)
    animation = animate(OverviewScene(), trace, every=10)
    figures = Figures(prefix="00_x")
    spec = json.loads(animation.to_json())
    out = figures.html(spec, {"alt": animation.alt})
    assert out.startswith('<figure class="ls-figure" id="ls-00_x-fig1">') and out.endswith("</figcaption></figure>")
    caption = out.split("<figcaption>")[1]
    assert "<b>fault</b>: crash instance-0 <small>at 42 s</small>" in caption
    assert '<button type="button" class="ls-play">▶ Play</button>' in out
    assert f'max="{len(animation.frames) - 1}"' in out
    still = figures.html({"data": [{"type": "bar", "name": "cost", "x": [1, 2]}],
                          "layout": {"title": {"text": "Cost <b>per month</b>"}, "yaxis": {"title": {"text": "$"}}}},
                         {})
    assert 'id="ls-00_x-fig2"' in still and "ls-play" not in still
    assert "<figcaption><p>Cost per month.</p><p>Axes: y: $.</p><ul><li>cost (bar, 2 points)</li></ul>" in still
    sneaky = figures.html({"data": [], "layout": {"title": {"text": "</script><script>alert(1)"}}}, {})
    assert "</script><script>alert" not in sneaky.split('class="ls-spec">')[1].split("</script>")[0]


def test_compact_rounds_floats_only() -> None:
    assert compact({"x": [218.21770123928727, 0.30000000000000004, 3, "a"], "n": 1e-9}) == \
        {"x": [218.22, 0.3, 3, "a"], "n": 1e-9}


def test_text_alternative_tells_every_event_in_order() -> None:
    trace = run_overview(seed=0)
    alt = text_alternative(OverviewScene(), trace, [0.0, 60.0, 120.0], limit=None)  # type: ignore[arg-type]
    assert alt.count("<li>") == len(trace.events)
    assert alt.startswith("<p>A production environment at work, 3 steps from 0 s to 120 s.")
    kinds = re.findall(r"</b>: ([a-z-]+) ", alt)
    assert kinds == [e.kind for e in trace.events]


def test_a_live_panel_in_publishing_mode_shows_its_recording_and_no_widget(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: shown.append((args, kwargs)))
    panel = overview_panel()
    try:
        publishing(True)
        panel._ipython_display_()
        data, metadata = animate(OverviewScene(), run_overview(seed=0))._repr_mimebundle_()  # type: ignore[misc]
    finally:
        publishing(False)
    (args, kwargs), = shown
    bundle = args[0]
    assert set(bundle) == {PLOTLY_MIME, "text/plain"}  # no widget view
    meta = kwargs["metadata"][PLOTLY_MIME]["labsupport"]
    assert "crash at (s), instances, alert above error rate" in meta["live_panel"]
    assert "crash instance-0" in meta["alt"]
    frames = bundle[PLOTLY_MIME]["frames"]
    assert 40 <= len(frames) <= 80 and frames[-1]["name"] == str(len(panel.trace.series["time_s"]) - 1)
    assert "alt" in metadata[PLOTLY_MIME]["labsupport"]
    assert isinstance(animate(OverviewScene(), run_overview(seed=0))._repr_mimebundle_(), dict)  # notebooks: as before


def test_goals_come_from_the_lessons_first_numbered_list() -> None:
    goals = lesson_goals(build_lesson(Lesson(ROOT / "lessons" / "00_overview.md"), "student"))
    assert len(goals) == 4
    assert goals[0] == "say what <em>deployment</em> means as a <strong>process</strong> and as an " \
                       "<strong>architecture</strong>;"


def test_markdown_tables_render() -> None:
    assert "<table>" in markdown_html("| a | b |\n|---|---|\n| 1 | 2 |\n")


def test_lessons_are_chosen_by_number_or_name() -> None:
    lessons = find_lessons(ROOT / "lessons")
    assert [lesson.slug for lesson in select_lessons(lessons, ["00", "lessons/01_packaging.md"])] == \
        ["00_overview", "01_packaging"]
    assert select_lessons(lessons, None) == lessons
    with pytest.raises(BuildError, match="no lesson '99'; the lessons are 00_overview"):
        select_lessons(lessons, ["99"])


def test_the_commands_say_what_is_wrong(capsys, tmp_path: Path) -> None:
    assert main(["slides", "99", "--out", "unused", "--lessons", str(ROOT / "lessons")]) == 2
    assert "error: no lesson '99'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    for command in ("slides", "export"):  # no lessons there: an error, not an empty deck folder or a traceback
        assert main([command, "--out", str(tmp_path / "out"), "--lessons", str(tmp_path / "empty")]) == 2
        assert "holds no lessons (NN_slug.md files)" in capsys.readouterr().err
        assert main([command, "--out", str(tmp_path / "out"), "--lessons", str(tmp_path / "nowhere")]) == 2
        assert "nowhere does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


_TINY = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

+++ {"tags": ["slide"]}

# 98 · A tiny lesson

**By the end of this lesson you can**

1. see a page built;
2. see a deck built.

```{code-cell} ipython3
:tags: [slide]

from labsupport.views.overview import overview_panel
overview_panel()
```

+++ {"tags": ["notes"]}

Say this aloud.
"""


def test_export_and_slides_of_a_lesson_run_in_a_kernel(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "98_tiny.md").write_text(_TINY, encoding="utf-8")
    assert main(["export", "--out", str(tmp_path / "site"), "--lessons", str(lessons)]) == 0
    page = (tmp_path / "site" / "98_tiny.html").read_text(encoding="utf-8")
    assert page.count('<figure class="ls-figure"') == 1 and "Live in the notebook." in page
    assert "widget-view" not in page and "application/vnd.jupyter.widget-state" not in page
    assert '<span class="n">overview_panel</span>' in page  # the page shows the code, highlighted
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<a href="98_tiny.html">98 · A tiny lesson</a>' in index and "<li>see a deck built.</li>" in index
    assert sorted(p.name for p in (tmp_path / "site" / "assets").iterdir()) == \
        ["code.css", "labsupport-figures.js", "labsupport.css", "plotly.min.js"]
    assert main(["slides", "98", "--out", str(tmp_path / "slides"), "--lessons", str(lessons)]) == 0
    deck = (tmp_path / "slides" / "98_tiny.html").read_text(encoding="utf-8")
    assert "Say this aloud." in deck and "overview_panel" not in deck  # a deck shows outputs, not code
    assert (tmp_path / "slides" / "assets" / "reveal.js" / "reveal.js").exists()
