"""The models' A/B benchmark (benchmarks/bench_models.py) makes its table from real runs: one quick model
against HEAD's own labsupport, exported and imported from a temporary folder. No timing is asserted."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="module")
def bench_models():  # type: ignore[no-untyped-def]
    if shutil.which("git") is None or subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                                     capture_output=True).returncode != 0:
        pytest.skip("not a git checkout: the benchmark exports a revision with git archive")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield importlib.import_module("bench_models")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_one_model_against_head_gives_a_row_of_figures(bench_models) -> None:  # type: ignore[no-untyped-def]
    models = {"run_packing": bench_models.MODELS["run_packing"]}
    lines = bench_models.compare_trees("HEAD", models, rounds=1, budget_s=0.02, min_calls=3)
    assert lines[0].split() == ["model", "before", "ms", "after", "ms", "change"]
    assert re.fullmatch(r"run_packing +\d+\.\d{3} +\d+\.\d{3} +[+-]\d+\.\d%", lines[1]), lines


def test_a_call_one_tree_refuses_is_n_a_with_why(bench_models) -> None:  # type: ignore[no-untyped-def]
    models = {"bad": ("from labsupport.sim.vm import run_vm", "run_vm(no_such_setting=1)")}
    lines = bench_models.compare_trees("HEAD", models, rounds=1, budget_s=0.02, min_calls=1)
    assert lines[1].split()[1:4] == ["n/a", "n/a", "n/a"] and "no_such_setting" in lines[1], lines


def test_the_child_fails_loudly_when_labsupport_comes_from_elsewhere(bench_models, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # an empty folder first on PYTHONPATH: labsupport still imports (the editable install), and the child says so
    with pytest.raises(RuntimeError, match="not from"):
        bench_models.measure(tmp_path, {}, budget_s=0.0, min_calls=0, max_calls=0)
