"""Real manifests for the Restaurant Service on Kubernetes, checked offline.

:func:`render_manifests` writes a Deployment and a Service (YAML) from the cluster model's parameters, and
:func:`validate_manifests` checks them against the real Kubernetes OpenAPI schemas of one Kubernetes version
with the PyPI package `kubernetes-validate <https://github.com/willthames/kubernetes-validate>`_ (no cluster
needed). It is the one entry point for every manifest of the course: Istio's routing objects
(``networking.istio.io``) go to :func:`labsupport.artifacts.istio.istio_problems`, which checks them against
types generated from Istio's own CRDs. Nothing here raises on a bad manifest: the report says what is wrong.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import yaml

from labsupport.artifacts._report import report_html
from labsupport.facts import HEALTH_PATH, SERVICE_PORT
from labsupport.sim.kubernetes import ClusterParams

__all__ = ["KUBERNETES_VERSION", "ManifestReport", "render_manifests", "validate_manifests"]

#: The Kubernetes version whose schemas the manifests are checked against.
KUBERNETES_VERSION = "1.33.0"
IMAGE = "ghcr.io/example/restaurant-service"


def render_manifests(params: ClusterParams | None = None, *, version: str = "v1") -> str:
    """The Restaurant Service's Deployment and Service as one YAML text (two documents)."""
    p = (params or ClusterParams()).validated()
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "restaurant", "labels": {"app": "restaurant"}},
        "spec": {
            "replicas": p.replicas,
            "selector": {"matchLabels": {"app": "restaurant"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": p.max_surge, "maxUnavailable": p.max_unavailable}},
            "template": {
                "metadata": {"labels": {"app": "restaurant", "version": version}},
                "spec": {"containers": [{
                    "name": "restaurant",
                    "image": f"{IMAGE}:{version}",
                    "ports": [{"containerPort": SERVICE_PORT, "name": "http"}],
                    "resources": {"requests": {"cpu": f"{p.pod_cpu_m}m", "memory": f"{p.pod_memory_mi}Mi"},
                                  "limits": {"memory": f"{p.pod_memory_mi}Mi"}},
                    "readinessProbe": {"httpGet": {"path": HEALTH_PATH, "port": "http"}, "periodSeconds": 5},
                    "livenessProbe": {"httpGet": {"path": HEALTH_PATH, "port": "http"}, "periodSeconds": 10},
                }]},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "restaurant", "labels": {"app": "restaurant"}},
        "spec": {"selector": {"app": "restaurant"},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    return str(yaml.safe_dump_all([deployment, service], sort_keys=False))


@dataclass(frozen=True)
class ManifestReport:
    """What :func:`validate_manifests` found: one message per problem, ``ok`` when there is none."""

    kinds: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = (f"{len(self.kinds)} manifest(s) valid ({', '.join(self.kinds)})" if self.ok
                else f"{len(self.problems)} problem(s) in {len(self.kinds)} manifest(s)")
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])

    def _repr_html_(self) -> str:
        head = str(self).splitlines()[0]
        return report_html(self.ok, head, [f"<li>{html.escape(p)}</li>" for p in self.problems])


def _where(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def validate_manifests(text: str, *, version: str = KUBERNETES_VERSION) -> ManifestReport:
    """Check every YAML document in ``text``: Kubernetes kinds against Kubernetes' schemas, Istio's against Istio's."""
    import kubernetes_validate

    from labsupport.artifacts.istio import ISTIO_API, istio_problems

    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        return ManifestReport((), (f"not valid YAML: {str(error).splitlines()[0]}",))
    if not docs:
        return ManifestReport((), ("no manifest found: the text holds no YAML document",))
    kinds: list[str] = []
    problems: list[str] = []
    for n, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            problems.append(f"document {n}: a manifest is a mapping with apiVersion and kind")
            continue
        kind = str(doc["kind"])
        kinds.append(kind)
        if str(doc["apiVersion"]).split("/")[0] == ISTIO_API:
            problems += istio_problems(doc)
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{kind} {_where(error.path)}: {error.message}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
            problems.append(f"{kind}: no Kubernetes {version} schema for apiVersion {doc['apiVersion']!r} "
                            f"and kind {kind!r} ({type(error).__name__})")
    return ManifestReport(tuple(kinds), tuple(problems))
