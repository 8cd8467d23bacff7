"""An animation's JSON is small (typed arrays, x0/dx for lines over time) and means the same figure."""

from __future__ import annotations

import base64
import json

import numpy as np
from plotly.io.json import to_json_plotly

from labsupport.sim.containers import run_host
from labsupport.sim.overview import run_overview
from labsupport.views import animate
from labsupport.views._scene import packed
from labsupport.views.containers import HostScene
from labsupport.views.overview import OverviewScene


def _values(value) -> np.ndarray:  # noqa: ANN001
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
    return np.asarray(value, dtype=float)


def _x(trace: dict, n: int) -> np.ndarray:
    if "x" in trace:
        return _values(trace["x"])
    return trace["x0"] + trace["dx"] * np.arange(n)


def test_packed_turns_numbers_into_float32_typed_arrays_and_leaves_the_rest() -> None:
    out = packed({"x": np.array([0.1, 0.2]), "y": [1, 2, 3], "text": ["a", "b"], "marker": {"size": [4.0, 5.0],
                  "color": ["#111", "#222"], "line": {"width": 2}}, "mode": "lines", "ids": np.array([1, 2])})
    assert out["x"]["dtype"] == "f4" and np.allclose(_values(out["x"]), [0.1, 0.2], rtol=1e-7)
    assert list(_values(out["y"])) == [1.0, 2.0, 3.0]
    assert out["text"] == ["a", "b"] and out["marker"]["color"] == ["#111", "#222"] and out["mode"] == "lines"
    assert out["marker"]["size"]["dtype"] == "f4" and out["marker"]["line"] == {"width": 2}
    assert isinstance(out["ids"], np.ndarray)  # not an attribute plotly.js reads as a typed array


def test_every_frame_means_what_it_meant_before() -> None:
    trace = run_host(seed=0)
    animation = animate(HostScene(), trace, every=10)
    plain = json.loads(to_json_plotly(animation.spec))
    small = json.loads(animation.to_json())
    assert len(animation.to_json()) < len(to_json_plotly(animation.spec)) / 2
    lines = [i for i, t in enumerate(small["data"]) if "x0" in t]
    assert lines, "the growing memory and latency lines go as x0/dx"
    for before, after in zip(plain["frames"], small["frames"], strict=True):
        for i, (b, a) in enumerate(zip(before["data"], after["data"], strict=True)):
            if "y" not in b:
                continue
            y = _values(a["y"]) if isinstance(a["y"], dict) else a["y"]
            if isinstance(b["y"], list) and b["y"] and isinstance(b["y"][0], str):
                assert y == b["y"]
                continue
            np.testing.assert_allclose(np.asarray(y, dtype=float), np.asarray(b["y"], dtype=float), rtol=1e-6)
            if "x" in b:
                base = small["data"][i]
                x = _x(a if "x" in a else base, len(b["x"]))
                if not (isinstance(b["x"], list) and b["x"] and isinstance(b["x"][0], str)):
                    np.testing.assert_allclose(x, np.asarray(b["x"], dtype=float), rtol=1e-6, atol=1e-9)


def test_an_x_that_is_not_evenly_spaced_stays_an_array() -> None:
    trace = run_overview(seed=0)
    small = json.loads(animate(OverviewScene(), trace, every=20).to_json())
    edges = small["data"][0]  # request edges: NaN-separated segments, never x0/dx
    assert "x0" not in edges
    assert all("x" in frame["data"][0] for frame in small["frames"])
