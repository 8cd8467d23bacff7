"""The Restaurant Service's port and health path live in one place, and every artifact that deploys it uses them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from labsupport.artifacts.cloudformation import render_template
from labsupport.artifacts.dockerfile import render_dockerfile
from labsupport.artifacts.kubernetes import render_manifests
from labsupport.facts import HEALTH_PATH, SERVICE_PORT
from labsupport.service import RestaurantService

PACKAGE = Path(__file__).resolve().parents[1] / "labsupport"


def test_no_module_but_the_facts_spells_the_port_or_the_health_path() -> None:
    spelled = [f"{path.relative_to(PACKAGE.parent)}:{n}" for path in sorted(PACKAGE.rglob("*.py"))
               if path.name != "_facts.py"
               for n, line in enumerate(path.read_text().splitlines(), start=1)
               if re.search(rf"\b{SERVICE_PORT}\b|[\"']{re.escape(HEALTH_PATH)}[\"']", line)]
    assert spelled == []


def test_the_service_and_every_artifact_agree_on_the_facts() -> None:
    assert RestaurantService().handle("GET", HEALTH_PATH).status == 200
    dockerfile = render_dockerfile()
    assert f"EXPOSE {SERVICE_PORT}" in dockerfile and f":{SERVICE_PORT}{HEALTH_PATH}'" in dockerfile
    manifests = list(yaml.safe_load_all(render_manifests()))
    container = next(d for d in manifests if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == SERVICE_PORT
    assert container["readinessProbe"]["httpGet"]["path"] == container["livenessProbe"]["httpGet"]["path"] == HEALTH_PATH
    target_group = render_template()["Resources"]["TargetGroup"]["Properties"]
    assert (target_group["HealthCheckPath"], target_group["Port"]) == (HEALTH_PATH, SERVICE_PORT)
