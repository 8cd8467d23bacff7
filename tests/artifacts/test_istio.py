"""Lesson 05 artifacts: the routing objects a release means, checked against Istio's own types through the one
entry point ``validate_manifests``; unknown fields and Istio's own rules reported, no traceback."""

from __future__ import annotations

import pytest
import yaml

from labsupport.artifacts.istio import istio_problems, render_release_routes, routes_at
from labsupport.artifacts.kubernetes import render_manifests, validate_manifests
from labsupport.sim.mesh import OutlierParams, route_shares, run_outlier, run_release


def test_rendered_routes_are_valid_and_mean_the_weights() -> None:
    text = render_release_routes(30, header_routing=True)
    report = validate_manifests(text)
    assert report.ok, str(report)
    assert report.kinds == ("VirtualService", "DestinationRule")
    vs, dr = yaml.safe_load_all(text)
    http = vs["spec"]["http"]
    assert route_shares(http) == pytest.approx({"primary": 0.7, "canary": 0.3})
    assert route_shares(http, {"x-tester": "true"}) == {"canary": 1.0}
    assert dr["spec"]["trafficPolicy"]["outlierDetection"] == {
        "consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 10}
    other = render_release_routes(2, 6, outlier=OutlierParams(base_ejection_s=12.5, max_ejection_percent=50))
    assert validate_manifests(other).ok and "baseEjectionTime: 12.5s" in other and "maxEjectionPercent: 50" in other


def test_routes_at_follow_the_release() -> None:
    trace = run_release()
    for t, canary, testers in ((10, 0, False), (45, 0, True), (100, 20, True), (215, 50, True), (260, 0, False)):
        vs, _ = yaml.safe_load_all(routes_at(trace, t))
        rules = vs["spec"]["http"]
        assert route_shares(rules).get("canary", 0.0) == pytest.approx(canary / 100), t
        assert (len(rules) == 2) is testers, t
        assert validate_manifests(routes_at(trace, t)).ok
    with pytest.raises(ValueError, match="reads a run_release trace"):
        routes_at(run_outlier(duration_s=10, fail_from_s=5, fail_until_s=8), 5)


def test_weights_need_not_add_up_to_100() -> None:
    assert validate_manifests(render_release_routes(1, 3)).ok
    assert validate_manifests(render_release_routes(100, 100)).ok
    zero = validate_manifests(render_release_routes(0, 0))
    assert not zero.ok and "weights add up to 0" in str(zero)
    negative = render_release_routes(10).replace("weight: 90", "weight: -90")
    assert "a weight cannot be negative" in str(validate_manifests(negative))
    with pytest.raises(ValueError, match="relative share"):
        render_release_routes(-5)


@pytest.mark.parametrize(("change", "message"), [
    (("weight: 90", "wieght: 90"), "unknown field 'wieght' (known here: destination, headers, weight)"),
    (("subset: canary", "subsett: canary"), "unknown field 'subsett'"),
    (("exact: 'true'", "exct: 'true'"), "unknown field 'exct'"),
    (("consecutive5xxErrors: 5", "consecutive5xxErrorz: 5"), "unknown field 'consecutive5xxErrorz'"),
    (("name: restaurant\nspec:\n  hosts", "name: restaurant\n  labelz: {}\nspec:\n  hosts"), "unknown field 'labelz'"),
    (("weight: 90", "weight: ninety"), "spec.http.1.route.0.weight: Input should be a valid integer"),
    (("timeout: 10s", "timeout: 10 seconds"), "'10 seconds' is not a duration"),
    (("interval: 10s", "interval: ten"), "'ten' is not a duration"),
    (("maxEjectionPercent: 10", "maxEjectionPercent: 110"), "maxEjectionPercent is a percentage from 0 to 100"),
    (("networking.istio.io/v1\nkind: VirtualService", "networking.istio.io/v2\nkind: VirtualService"),
     "apiVersion 'networking.istio.io/v2' is not one of"),
    (("kind: VirtualService", "kind: VirtualServise"), "has no kind 'VirtualServise'"),
])
def test_mistakes_are_reported_in_plain_words(change: tuple[str, str], message: str) -> None:
    text = render_release_routes(10, header_routing=True)
    assert change[0] in text
    report = validate_manifests(text.replace(*change, 1))
    assert not report.ok and message in str(report), str(report)
    assert "Traceback" not in report._repr_html_()


def test_retries_are_checked_like_istiod_does() -> None:
    good = render_release_routes(10, retries={"attempts": 3, "perTryTimeout": "2s", "retryOn": "connect-failure,503"})
    assert validate_manifests(good).ok
    bad = render_release_routes(10, retries={"attempts": -1, "retryOn": "5xx,sometimes"})
    text = str(validate_manifests(bad))
    assert "attempts cannot be negative" in text and "'sometimes' is not a retryOn policy" in text


def test_kubernetes_and_istio_documents_together() -> None:
    both = render_manifests() + "---\n" + render_release_routes(10)
    report = validate_manifests(both)
    assert report.ok and report.kinds == ("Deployment", "Service", "VirtualService", "DestinationRule")
    assert istio_problems({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                           "metadata": {"name": "r"}, "spec": {"host": "r"}}) == []
