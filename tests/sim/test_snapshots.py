"""Every model's default run, and a few runs at other settings, frozen: a refactor must leave them identical.

Each case is stored in ``tests/sim/snapshots/<case>.json``: the parameters, every event in full, and per series
its dtype, shape, SHA-256 of its values and a few readable figures (so a failure says where a run changed).
Integer, boolean and text series are hashed exactly. A float series is hashed after rounding to float32: numpy
picks its vector kernels by the CPU (AVX-512 or not), and some of them (``exp``, a reduction's order) differ in
the last bit of a float64, which says nothing about the model; a change anywhere above the eighth significant
digit still changes the hash. Its first values and its sum are compared to twelve digits. To re-freeze after a
change that is *meant* to change a model (say why in the commit):

    .venv/bin/python -m tests.sim.test_snapshots --write
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labsupport.artifacts.dockerfile import build_steps, render_dockerfile
from labsupport.sim import choosing, containers, kubernetes, mesh, overview, packaging, serverless, vm

HERE = Path(__file__).parent / "snapshots"


def _steps() -> Any:
    return build_steps(render_dockerfile())


#: name -> a call that runs the model. Defaults first, then settings that reach other branches of each model.
CASES: dict[str, Callable[[], Any]] = {
    "overview": lambda: overview.run_overview(),
    "overview-seed7": lambda: overview.run_overview(seed=7),
    "machine": lambda: packaging.run_machine(),
    "machine-shared": lambda: packaging.run_machine(shared_server=True, crash_at_s=60.0),
    "placement": lambda: packaging.run_placement(),
    "vm": lambda: vm.run_vm(),
    "vm-seed3": lambda: vm.run_vm(seed=3),
    "packing": lambda: vm.run_packing(),
    "build": lambda: containers.run_build(_steps(), ["labsupport/service/_app.py"]),
    "build-nocache": lambda: containers.run_build(_steps(), cache=False),
    "host": lambda: containers.run_host(),
    "host-seed5": lambda: containers.run_host(seed=5),
    "container-packing": lambda: containers.pack_containers([512.0, 1024.0, 256.0, 2048.0, 768.0]),
    "cluster": lambda: kubernetes.run_cluster(),
    "cluster-seed2": lambda: kubernetes.run_cluster(seed=2),
    "release": lambda: mesh.run_release(),
    "release-seed4": lambda: mesh.run_release(seed=4),
    "outlier": lambda: mesh.run_outlier(),
    "serverless": lambda: serverless.run_serverless(),
    "serverless-seed9": lambda: serverless.run_serverless(seed=9),
    "serverless-exponential": lambda: serverless.run_serverless(
        service_time="exponential", routing="newest", duration_ms=1991.0, cold_duration_ms=2244.0, request_rate_per_s=0.9,
        duration_s=20_000.0),
    "cost-curve": lambda: serverless.run_cost_curve(),
    "compare": lambda: choosing.compare(),
    "traffic-sweep": lambda: choosing.run_traffic_sweep(),
}


def _plain(value: Any) -> Any:
    """A JSON-safe, exact form of ``value`` (floats keep every bit: ``float.hex`` where not integral)."""
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, str):
        return value.item() if isinstance(value, np.bool_) else value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        return value if value.is_integer() and abs(value) < 2**53 else value.hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if hasattr(value, "__dataclass_fields__"):
        return {"__type__": type(value).__name__,
                **{k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}}
    return repr(value)


def _series_summary(array: np.ndarray) -> dict[str, Any]:
    array = np.asarray(array)
    if array.dtype.kind in "OU":  # values, not object pointers
        content = json.dumps(_plain(array)).encode()
    elif array.dtype.kind == "f":  # to float32: the last bits of a float64 depend on the CPU's vector kernels
        content = np.ascontiguousarray(array, dtype=np.float32).tobytes()
    else:
        content = np.ascontiguousarray(array).tobytes()
    out: dict[str, Any] = {"dtype": str(array.dtype), "shape": list(array.shape),
                           "sha256": hashlib.sha256(content).hexdigest()}
    if array.dtype.kind in "fiub" and array.size:
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        out["first"] = _plain(array.reshape(-1)[:4])
        out["sum"] = _plain(float(np.sum(finite, dtype=float)))
    elif array.size:
        out["first"] = _plain(array.reshape(-1)[:4])
    return out


def snapshot(result: Any) -> dict[str, Any]:
    """What is frozen of a model's result: a Trace, or a result without a time axis.

    ``params`` and ``computed`` are stored together: a refactor may move a computed result (a recommendation, a
    break-even rate) out of ``params`` into the result's own field without changing the snapshot.
    """
    series = getattr(result, "series", None)
    if series is None:
        series = getattr(result, "values")  # noqa: B009 - a result without a time axis
    inputs = {**dict(getattr(result, "params", {})), **dict(getattr(result, "computed", {}) or {})}
    return {
        "model": result.model,
        "seed": getattr(result, "seed", None),
        "params": _plain(dict(sorted(inputs.items()))),
        "events": [[_plain(e.time_s), e.kind, e.subject, e.actor, _plain(dict(e.data))]
                   for e in getattr(result, "events", ())],
        "series": {name: _series_summary(series[name]) for name in sorted(series)},
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_run_is_exactly_as_frozen(case: str) -> None:
    path = HERE / f"{case}.json"
    assert path.exists(), f"no snapshot for {case}: run `python -m tests.sim.test_snapshots --write`"
    frozen = json.loads(path.read_text())
    now = json.loads(json.dumps(snapshot(CASES[case]())))
    assert now["model"] == frozen["model"]
    assert now["params"] == frozen["params"]
    for i, (a, b) in enumerate(zip(now["events"], frozen["events"], strict=False)):
        assert a == b, f"event {i} differs: now {a}, frozen {b}"
    assert len(now["events"]) == len(frozen["events"])
    assert sorted(now["series"]) == sorted(frozen["series"])
    for name in frozen["series"]:
        assert _same_series(now["series"][name], frozen["series"][name]), \
            f"series {name} differs: now {now['series'][name]}, frozen {frozen['series'][name]}"


def _close(a: Any, b: Any) -> bool:
    """Equal, floats to twelve significant digits (``float.hex`` or plain, as :func:`_plain` stores them)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    try:
        x, y = (float.fromhex(v) if isinstance(v, str) else float(v) for v in (a, b))
    except (TypeError, ValueError):
        return bool(a == b)
    return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300) or (math.isnan(x) and math.isnan(y))


def _same_series(now: Mapping[str, Any], frozen: Mapping[str, Any]) -> bool:
    if now["dtype"] != frozen["dtype"] or now["shape"] != frozen["shape"] or now["sha256"] != frozen["sha256"]:
        return False
    return all(_close(now.get(key), frozen.get(key)) for key in ("first", "sum"))


def test_every_case_has_a_snapshot_and_every_snapshot_a_case() -> None:
    assert sorted(p.stem for p in HERE.glob("*.json")) == sorted(CASES)


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("usage: python -m tests.sim.test_snapshots --write   (re-freezes every case)")
    HERE.mkdir(exist_ok=True)
    for name, run in sorted(CASES.items()):
        (HERE / f"{name}.json").write_text(json.dumps(snapshot(run()), indent=1, sort_keys=True) + "\n")
        print("froze", name)
