"""What learners feel, in real JupyterLab and headless Chromium: ``python3 course.py bench browser [00 04 ...]``.

For each lesson (all of them unless some are named), ``--repeat N`` times (3 by default), with a fresh copy of
the student notebook and a fresh kernel each time:

1. **Run all → last figure**: from the click on Run ▸ Run All Cells to the moment the lesson's last plotly
   figure has drawn its traces (the page's own clock, ``performance.now()``);
2. **first change**: once Run all has ended (the kernel idle for 2 s), the live panel's first slider is focused
   and ArrowRight pressed once, as a learner using the keyboard would; from the key going down to the first
   change of the panel's figure on the page;
3. **three presses settled**: three quick presses of the same key; from the first key going down to the last
   change of the figure (after 1.5 s with no change and the kernel idle).

It drives JupyterLab exactly as the browser tests do (``tests/browser/lab.py``: fresh config folders, news and
update checks off, an empty Chromium profile) and blocks every request that would leave the machine. The
figures are printed, never asserted: they depend on the machine and on what else runs on it, so the load
average is printed before and after. Goals (issue 15): Run all → last figure ≤ 3 s, a change ≤ 100 ms, three
changes settled ≤ 300 ms. ``KB`` is what the kernel sent the page for the three presses.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXPLICIT = True  # bench.py runs it only when named: it starts JupyterLab and Chromium

#: Installed on the page before "Run all": the click's time, when each notebook cell holding a plotly figure first
#: drew a trace (plotly's own off-page copies, made to render a PNG of each static figure, are not in a cell and
#: do not count), and (for the live figure, once armed) every change of its DOM and every key press. The watcher
#: of the whole page stops once the lesson's figures have drawn, so it costs nothing while a change is timed.
_PROBE = """() => {
  const B = window.__bench = {t0: null, armed: false, drawn: [], cells: new Set(), seen: new WeakSet(), keys: [],
                              changes: [], live: null, last: 0};
  document.addEventListener('pointerup', () => { if (B.armed && B.t0 === null) B.t0 = performance.now(); }, true);
  document.addEventListener('keydown', () => B.keys.push(performance.now()), true);
  B.watch = new MutationObserver(() => {
    const now = performance.now();
    for (const plot of document.querySelectorAll('.jp-Notebook .jp-Cell .js-plotly-plot')) {
      if (B.seen.has(plot) || !plot.querySelector('.main-svg .trace')) continue;
      B.seen.add(plot);
      const cell = [...document.querySelectorAll('.jp-Notebook .jp-Cell')].indexOf(plot.closest('.jp-Cell'));
      if (!B.cells.has(cell)) { B.cells.add(cell); B.drawn.push([now, cell]); }
    }
  });
  B.watch.observe(document.body, {childList: true, subtree: true});
}"""
#: Installed before the page loads: when each message goes to the kernel and comes back (the kernel's
#: websocket), and every long task of the page's main thread (plotly drawing, the widget manager).
_WIRE = """(() => {
  const W = window.__wire = {sent: [], received: [], long: []};
  const Socket = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Socket(...args);
    if (String(args[0]).includes('/channels')) {
      const send = ws.send.bind(ws);
      ws.send = (data) => { W.sent.push(performance.now()); return send(data); };
      ws.addEventListener('message', () => W.received.push(performance.now()));
    }
    return ws;
  };
  window.WebSocket.prototype = Socket.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) W.long.push([e.startTime, e.duration]); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) { /* no long-task timing in this browser */ }
})();"""
#: Where the time of one change went: key → message to the kernel → first answer → last answer → figure changed,
#: and the main thread's long tasks in between (ms, page clock).
_WHERE = """([since, until]) => {
  const W = window.__wire, after = (xs) => xs.filter(t => t >= since && t <= until);
  const sent = after(W.sent), got = after(W.received);
  const busy = W.long.filter(([t]) => t >= since && t <= until).reduce((a, [, d]) => a + d, 0);
  return {sent: sent.length ? sent[0] - since : null, first: got.length ? got[0] - since : null,
          last: got.length ? got[got.length - 1] - since : null, messages: got.length, busy: busy};
}"""
_WATCH_LIVE = """(i) => {
  const B = window.__bench, plot = document.querySelectorAll('.jp-Notebook .jp-Cell .js-plotly-plot')[i];
  B.live = plot;
  new MutationObserver(() => { const now = performance.now(); B.changes.push(now); B.last = now; })
    .observe(plot, {childList: true, subtree: true, attributes: true, characterData: true});
}"""
#: Run all has ended: the kernel has been idle for ``ms`` (JupyterLab keeps only the cells near the screen in the page,
#: so every prompt it shows can be numbered while the kernel still runs the lesson's last cells: lesson 03's real
#: containers ran on for about 9 s, and its "first change" measured them).
_IDLE_FOR = """(ms) => { const B = window.__bench, now = performance.now();
  B.busy ??= now;  // the wait starts busy: idle only after ms of it
  if (!document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']")) B.busy = now;
  return now - B.busy > ms; }"""
_DRAWN = "(n) => { const B = window.__bench; if (B.drawn.length < n) return false; B.watch.disconnect(); return true; }"
_QUIET = """([ms, since]) => { const B = window.__bench, now = performance.now();
  return B.changes.some(t => t > since) && now - B.last > ms
    && !!document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']"); }"""


@dataclass(frozen=True)
class Run:
    run_all_s: float
    first_ms: float
    three_ms: float
    three_kb: float
    slider: str
    where: dict[str, Any]  # the first change's timeline (see _WHERE)
    drawn_s: list[float]  # when each figure first drew, from the click on Run All Cells


def _slider(page: Any, live: int) -> Any:
    """The first slider of the live panel (the VBox holding the live figure) and its handle."""
    panel = page.locator(".jp-Notebook .jp-Cell .js-plotly-plot").nth(live).locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
    return panel.locator(".widget-slider").first


def _press(page: Any, handle: Any, key: str, times: int) -> float:
    """Press ``key`` ``times`` times on the focused handle; the page time of the first key going down."""
    handle.focus()
    before = page.evaluate("window.__bench.keys.length")
    for _ in range(times):
        page.keyboard.press(key)
    return float(page.evaluate(f"window.__bench.keys[{before}]"))


def _settled(page: Any, since: float) -> tuple[float, float]:
    """(first, last) figure change after page time ``since``, once the figure has been still for 1.5 s."""
    page.wait_for_function(_QUIET, arg=[1500, since], timeout=60_000, polling=100)
    first, last = page.evaluate(
        "(since) => { const c = window.__bench.changes.filter(t => t > since); return [c[0], c[c.length - 1]]; }",
        since)
    return float(first) - since, float(last) - since


def measure(browser: Any, lab: Any, slug: str, rep: int, blocked: list[str]) -> Run:
    from tests.browser.lab import ALL_RAN, LESSONS, block_outside, open_notebook, until

    plots = LESSONS[slug].plots
    name = f"{slug}-bench-{rep}.ipynb"
    shutil.copy(ROOT / "notebooks" / f"{slug}.ipynb", lab.root / name)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    block_outside(page, blocked)
    page.add_init_script(_WIRE)
    received: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
    try:
        open_notebook(page, lab, name)
        page.evaluate(_PROBE)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.evaluate("window.__bench.armed = true")
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(_DRAWN, arg=plots, timeout=180_000, polling="raf")
        # when each figure's cell first drew, in the notebook's order; the last figure is the last cell's
        drawn_s = page.evaluate("window.__bench.drawn.sort((a, b) => a[1] - b[1]).map(([t]) => (t - window.__bench.t0) / 1000)")
        run_all_s = drawn_s[-1]
        until(page, ALL_RAN, 300_000)
        page.wait_for_function(_IDLE_FOR, arg=2000, timeout=300_000, polling=50)
        page.wait_for_timeout(1000)  # the panel's own start-up is over
        slider = _slider(page, plots - 1)
        slider.scroll_into_view_if_needed()
        handle = slider.locator(".noUi-handle").first
        label = str(slider.locator(".widget-label").first.text_content() or "").strip()
        low, now, top = (float(handle.get_attribute(a) or 0) for a in ("aria-valuemin", "aria-valuenow", "aria-valuemax"))
        key = "ArrowRight" if top - now >= now - low else "ArrowLeft"  # room for all four presses
        page.evaluate(_WATCH_LIVE, plots - 1)
        page.wait_for_timeout(500)
        pressed = _press(page, handle, key, 1)
        first_ms, _ = _settled(page, pressed)
        where = page.evaluate(_WHERE, [pressed, pressed + first_ms])
        size = len(received)
        _, three_ms = _settled(page, _press(page, handle, key, 3))
        kb = sum(received[size:]) / 1024
        return Run(float(run_all_s), first_ms, three_ms, kb, label, where, [float(t) for t in drawn_s])
    finally:
        page.close()
        for kernel in lab.api("api/kernels") or []:
            lab.api(f"api/kernels/{kernel['id']}", method="DELETE")
        (lab.root / name).unlink(missing_ok=True)


def _timeline(where: dict[str, Any]) -> str:
    def ms(name: str) -> str:
        return "-" if where[name] is None else f"{where[name]:.0f}"

    return (f"message to the kernel at {ms('sent')} ms, first answer at {ms('first')} ms, last of "
            f"{where['messages']} at {ms('last')} ms; long tasks on the page's main thread {where['busy']:.0f} ms")


def _spread(values: list[float], scale: float = 1.0, fmt: str = ".0f") -> str:
    v = [x * scale for x in values]
    return f"{statistics.median(v):{fmt}} ({min(v):{fmt}}–{max(v):{fmt}})"


def main(argv: list[str]) -> int:
    from tests.browser.lab import LESSONS, chromium, jupyter_lab, missing

    parser = argparse.ArgumentParser(prog="course.py bench browser", description=__doc__.split("\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers (00 04 ...); all by default")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each lesson (default 3)")
    parser.add_argument("--why", action="store_true",
                        help="also print where each first change's time went (key → kernel → page → figure)")
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(f"browser benchmark skipped: {reason}")
        return 1
    slugs = [s for s in sorted(LESSONS) if not args.lessons or s[:2] in args.lessons]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores); "
          f"{args.repeat} runs per lesson, median (min–max)")
    print(f"{'lesson':15} {'Run all → last figure':>24} {'first change':>18} {'3 presses settled':>20} "
          f"{'KB':>6}  slider")
    blocked: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        work, state, profile = (Path(tmp) / name for name in ("work", "state", "profile"))
        for folder in (work, state, profile):
            folder.mkdir()
        with jupyter_lab(work, state) as lab, chromium(profile) as browser:
            for slug in slugs:
                runs = []
                for rep in range(args.repeat):
                    started = time.perf_counter()
                    try:
                        runs.append(measure(browser, lab, slug, rep, blocked))
                    except Exception as error:  # noqa: BLE001 - say what failed, go on with the next
                        print(f"{slug} run {rep + 1}: failed after {time.perf_counter() - started:.0f} s: "
                              f"{str(error).splitlines()[0]}", flush=True)
                if not runs:
                    continue
                if args.why:
                    for r in runs:
                        print("  figures drawn at " + ", ".join(f"{t:.2f}" for t in r.drawn_s) + " s; first change: "
                              + _timeline(r.where), flush=True)
                print(f"{slug:15} {_spread([r.run_all_s for r in runs], fmt='.2f') + ' s':>24} "
                      f"{_spread([r.first_ms for r in runs]) + ' ms':>18} "
                      f"{_spread([r.three_ms for r in runs]) + ' ms':>20} "
                      f"{statistics.median(r.three_kb for r in runs):6.0f}  {runs[0].slider}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"requests blocked (leaving the machine): {len(blocked)}" + (f", e.g. {blocked[0]}" if blocked else ""))
    print("goals: Run all → last figure ≤ 3 s; first change ≤ 100 ms; three presses settled ≤ 300 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
