"""Every model run, before and after, side by side in one run: ``python3 course.py bench models [--against REV]``.

``git archive REV labsupport/`` (``aaa2d36`` by default: the tree before the engine refactor) is unpacked into a
temporary folder. Each model's default call (and ``run_cluster`` at 100 nodes and 1,000 replicas) is then timed
in fresh interpreters, one for the old tree (its folder first on ``PYTHONPATH``, so it wins over the editable
install; the child checks that ``labsupport`` really comes from there and fails loudly otherwise) and one for
this working tree, alternating old/new over several rounds (the order flips every round). A figure is the
minimum CPU time (``time.process_time``) of one call over many calls and all rounds: on a shared machine the
minimum is what the code costs, the rest is other people's work. A call that one tree does not accept prints
``n/a`` and why. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EXPLICIT = True  # bench.py runs it only when named: it takes a few minutes
DEFAULT_AGAINST = "aaa2d36"  # the tree before the engine refactor (issue 14)

#: name -> (setup, call): Python run in the child, ``setup`` once, ``call`` timed. The calls are each model's
#: default run, as a lesson makes it.
MODELS: dict[str, tuple[str, str]] = {
    "run_overview": ("from labsupport.sim.overview import run_overview", "run_overview()"),
    "run_machine": ("from labsupport.sim.packaging import run_machine", "run_machine()"),
    "run_placement": ("from labsupport.sim.packaging import run_placement", "run_placement()"),
    "run_vm": ("from labsupport.sim.vm import run_vm", "run_vm()"),
    "run_packing": ("from labsupport.sim.vm import run_packing", "run_packing()"),
    "run_build": ("from labsupport.sim.containers import run_build\n"
                  "from labsupport.artifacts.dockerfile import build_steps, render_dockerfile\n"
                  "steps = build_steps(render_dockerfile())",
                  "run_build(steps, ['labsupport/service/_app.py'])"),
    "run_host": ("from labsupport.sim.containers import run_host", "run_host()"),
    "run_cluster": ("from labsupport.sim.kubernetes import run_cluster", "run_cluster()"),
    "run_cluster 100 nodes/1000 pods": (
        "from labsupport.sim.kubernetes import run_cluster",
        "run_cluster(nodes=100, replicas=1000, scale_to=None, node_cpu_m=4000, node_memory_mi=16384, kill_node=7)"),
    "run_release": ("from labsupport.sim.mesh import run_release", "run_release()"),
    "run_outlier": ("from labsupport.sim.mesh import run_outlier", "run_outlier()"),
    "run_serverless": ("from labsupport.sim.serverless import run_serverless", "run_serverless()"),
    "run_cost_curve": ("from labsupport.sim.serverless import run_cost_curve", "run_cost_curve()"),
    "compare": ("from labsupport.sim.choosing import compare", "compare()"),
    "run_traffic_sweep": ("from labsupport.sim.choosing import run_traffic_sweep", "run_traffic_sweep()"),
}

#: The child: imports labsupport from the folder it is told, checks that it did, and prints one JSON line
#: {model: min CPU ms of one call, or "n/a: why"}.
_CHILD = r'''
import json, os, sys, time
root = os.path.realpath(os.environ["BENCH_MODELS_ROOT"])
import labsupport
where = os.path.realpath(labsupport.__file__)
if not where.startswith(root + os.sep):
    sys.exit(f"bench models: labsupport came from {where}, not from {root}: the A/B comparison would be wrong")
spec = json.loads(sys.argv[1])
out = {}
for name, (setup, call) in spec["models"].items():
    space = {}
    try:
        exec(setup, space)
        code = compile(call, name, "eval")
        eval(code, space)  # the first call: imports, caches
    except Exception as error:  # a signature or a setting this tree does not accept
        out[name] = f"n/a: {type(error).__name__}: {str(error).splitlines()[0][:90] if str(error) else ''}"
        continue
    best, calls, spent = float("inf"), 0, 0.0
    while calls < spec["min_calls"] or (spent < spec["budget_s"] and calls < spec["max_calls"]):
        start = time.process_time()
        eval(code, space)
        took = time.process_time() - start
        best, calls, spent = min(best, took), calls + 1, spent + took
    out[name] = best * 1000
print(json.dumps(out))
'''


@dataclass
class Figures:
    """The best figure so far of each model in one tree (ms), or why it has none."""

    best: dict[str, float | str]

    def add(self, run: dict[str, float | str]) -> None:
        for name, value in run.items():
            old = self.best.get(name)
            if isinstance(value, str):  # kept only if no round measured it
                self.best.setdefault(name, value)
            elif old is None or isinstance(old, str):
                self.best[name] = value
            else:
                self.best[name] = min(old, value)


def export(rev: str, into: Path) -> Path:
    """``git archive rev labsupport/`` unpacked into ``into``; returns the folder to put on ``PYTHONPATH``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "labsupport/"],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as tar_file:
        tar_file.write(archive)
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file) as tar:
            tar.extractall(into, filter="data")
    return into


def measure(root: Path, models: dict[str, tuple[str, str]], *, budget_s: float, min_calls: int,
            max_calls: int) -> dict[str, float | str]:
    """One fresh interpreter importing labsupport from ``root``: each model's min CPU ms per call."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               BENCH_MODELS_ROOT=str(root), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    spec = json.dumps({"models": models, "budget_s": budget_s, "min_calls": min_calls, "max_calls": max_calls})
    done = subprocess.run([sys.executable, "-c", _CHILD, spec], env=env, cwd=tempfile.gettempdir(),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench models: the child for {root} failed:\n{done.stderr.strip()}")
    result: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(models: list[str], before: Figures, after: Figures) -> list[str]:
    """The printed table: model, before ms, after ms, change % (negative: faster)."""
    lines = [f"{'model':34} {'before ms':>10} {'after ms':>10} {'change':>8}"]
    for name in models:
        old, new = before.best.get(name, "n/a: not run"), after.best.get(name, "n/a: not run")
        if isinstance(old, str) or isinstance(new, str):
            why = "; ".join(f"{side} {v}" for side, v in (("before", old), ("after", new)) if isinstance(v, str))
            shown = [f"{v:10.3f}" if not isinstance(v, str) else f"{'n/a':>10}" for v in (old, new)]
            lines.append(f"{name:34} {shown[0]} {shown[1]} {'n/a':>8}  ({why})")
        else:
            lines.append(f"{name:34} {old:10.3f} {new:10.3f} {100 * (new / old - 1):+7.1f}%")
    return lines


def compare_trees(against: str, models: dict[str, tuple[str, str]], *, rounds: int, budget_s: float,
                  min_calls: int = 5, max_calls: int = 5000) -> list[str]:
    """Measure ``models`` in ``against``'s labsupport and in this tree's, alternating; return the table."""
    before, after = Figures({}), Figures({})
    with tempfile.TemporaryDirectory(prefix="bench-models-") as folder:
        old_root = export(against, Path(folder))
        for k in range(rounds):
            order = [(old_root, before), (ROOT, after)]
            for root, figures in order if k % 2 == 0 else order[::-1]:
                figures.add(measure(root, models, budget_s=budget_s, min_calls=min_calls, max_calls=max_calls))
    return table(list(models), before, after)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="course.py bench models", description=__doc__.split("\n")[0])
    parser.add_argument("--against", default=DEFAULT_AGAINST, help=f"the 'before' revision (default {DEFAULT_AGAINST})")
    parser.add_argument("--rounds", type=int, default=3, help="old/new rounds, order flipped each round (default 3)")
    parser.add_argument("--budget", type=float, default=0.5,
                        help="CPU seconds spent on each model per round and tree (default 0.5)")
    parser.add_argument("--only", nargs="*", default=None, help="model names to run (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    models = {name: MODELS[name] for name in (args.only or MODELS)}
    started = time.perf_counter()
    print(f"labsupport at {args.against} (before) against this working tree (after); {args.rounds} rounds, "
          f"~{args.budget} CPU s per model, round and tree; min CPU ms of one call; load {os.getloadavg()[0]:.2f}")
    for line in compare_trees(args.against, models, rounds=args.rounds, budget_s=args.budget):
        print(line, flush=True)
    print(f"({time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
