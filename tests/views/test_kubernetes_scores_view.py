"""Lesson 04: the figure that shows why the scheduler bound a pod where it did."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.sim.kubernetes import run_cluster
from labsupport.views.kubernetes import placement_scores_figure


def test_bars_are_each_plugins_weighted_score_and_add_up_to_the_total() -> None:
    trace = run_cluster()
    fig = placement_scores_figure(trace, "web-v1-4")  # the replacement at 90 s: node-1 is not feasible any more
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.name for b in bars] == ["NodeResourcesFit × 1", "NodeResourcesBalancedAllocation × 1",
                                      "PodTopologySpread × 2"]
    assert list(bars[0].x) == ["node-0", "node-2"]
    stacked = np.sum([np.asarray(b.y) for b in bars], axis=0)
    assert stacked.tolist() == [281, 374]
    assert fig.layout.title.text.startswith("web-v1-4 at 90 s went to node-2")
    outline = fig.layout.shapes[0]
    assert outline.x0 < 1 < outline.x1 and outline.y1 == 374


def test_a_tie_is_named_in_the_title() -> None:
    fig = placement_scores_figure(run_cluster(), 0)
    assert "3 nodes tied at 386: picked at random" in fig.layout.title.text


@pytest.mark.parametrize(("which", "message"), [(99, "from 0 to 12"), ("web-v9-0", "no bind of a pod named")])
def test_a_bad_placement_is_explained(which, message) -> None:
    with pytest.raises(ValueError, match=message):
        placement_scores_figure(run_cluster(), which)
