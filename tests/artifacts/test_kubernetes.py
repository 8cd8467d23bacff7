"""Lesson 04 artifacts: manifests valid against the real Kubernetes schemas; mistakes explained; Istio routes."""

from __future__ import annotations

import yaml

from labsupport.artifacts.kubernetes import render_canary_routes, render_manifests, validate_manifests
from labsupport.sim.kubernetes import ClusterParams


def test_rendered_manifests_are_valid() -> None:
    text = render_manifests()
    report = validate_manifests(text)
    assert report.ok, str(report)
    assert report.kinds == ("Deployment", "Service")
    deployment = next(yaml.safe_load_all(text))
    assert deployment["spec"]["replicas"] == 4
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
    other = render_manifests(ClusterParams(replicas=7, max_surge=2, pod_cpu_m=100), version="v2")
    assert validate_manifests(other).ok and "replicas: 7" in other and "cpu: 100m" in other and ":v2" in other


def test_invalid_manifests_are_explained_without_traceback() -> None:
    text = render_manifests()
    port = validate_manifests(text.replace("containerPort: 8080", "containerPort: '8080'"))
    assert not port.ok and "containerPort: '8080' is not of type 'integer'" in str(port)
    old = validate_manifests(text.replace("apps/v1", "apps/v1beta1"))
    assert "no Kubernetes" in str(old) and "apps/v1beta1" in str(old)
    assert "not valid YAML" in str(validate_manifests("a: [b"))
    assert "no manifest found" in str(validate_manifests(""))
    assert "a mapping with apiVersion and kind" in str(validate_manifests("- 1\n- 2\n"))
    assert "Traceback" not in port._repr_html_() and "#D55E00" in port._repr_html_()


def test_canary_routes_mean_the_weights() -> None:
    text = render_canary_routes(25)
    assert validate_manifests(text).ok
    vs, dr = yaml.safe_load_all(text)
    assert [(r["destination"]["subset"], r["weight"]) for r in vs["spec"]["http"][0]["route"]] == [
        ("stable", 75), ("canary", 25)]
    assert {s["name"]: s["labels"]["version"] for s in dr["spec"]["subsets"]} == {"stable": "v1", "canary": "v2"}
    bad_sum = validate_manifests(text.replace("weight: 75", "weight: 70"))
    assert "add up to 95, not 100" in str(bad_sum)
    bad_type = validate_manifests(text.replace("weight: 25", "weight: high"))
    assert "'high' is not of type 'integer'" in str(bad_type)
    try:
        render_canary_routes(120)
    except ValueError as error:
        assert "0 to 100" in str(error)
    else:
        raise AssertionError("a weight of 120 was accepted")
