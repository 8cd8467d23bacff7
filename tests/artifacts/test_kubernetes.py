"""Lesson 04 artifacts: manifests valid against the real Kubernetes schemas; mistakes explained."""

from __future__ import annotations

import yaml

from labsupport.artifacts.kubernetes import render_manifests, validate_manifests
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
