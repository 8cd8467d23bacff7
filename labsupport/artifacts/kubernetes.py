"""Real manifests for the Restaurant Service on Kubernetes, checked offline.

:func:`render_manifests` writes a Deployment and a Service (YAML) from the cluster model's parameters, and
:func:`validate_manifests` checks them against the real Kubernetes OpenAPI schemas of one Kubernetes version
with the PyPI package `kubernetes-validate <https://github.com/willthames/kubernetes-validate>`_ (no cluster
needed). :func:`render_canary_routes` writes the Istio VirtualService and DestinationRule that a canary weight
means. Istio's CRD schemas are not packaged on PyPI, so :func:`validate_manifests` checks those two against a
small JSON schema of this course's own, which covers only the fields used here: a real cluster's API server
checks them against Istio's full CRD schemas. Nothing here raises on a bad manifest: the report says what is
wrong.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import yaml

from labsupport.artifacts._report import report_html
from labsupport.sim.kubernetes import ClusterParams

__all__ = ["KUBERNETES_VERSION", "ManifestReport", "render_canary_routes", "render_manifests",
           "validate_manifests"]

#: The Kubernetes version whose schemas the manifests are checked against.
KUBERNETES_VERSION = "1.33.0"
IMAGE = "ghcr.io/example/restaurant-service"
SERVICE_PORT = 8080


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
                    "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5},
                    "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10},
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
    return yaml.safe_dump_all([deployment, service], sort_keys=False)


def render_canary_routes(canary_weight: int) -> str:
    """The Istio VirtualService and DestinationRule that send ``canary_weight`` % of requests to v2."""
    if isinstance(canary_weight, bool) or not isinstance(canary_weight, int) or not 0 <= canary_weight <= 100:
        raise ValueError(f"canary_weight must be a whole percentage from 0 to 100, got {canary_weight!r}")
    virtual_service = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "restaurant"},
        "spec": {"hosts": ["restaurant"], "http": [{"route": [
            {"destination": {"host": "restaurant", "subset": "stable"}, "weight": 100 - canary_weight},
            {"destination": {"host": "restaurant", "subset": "canary"}, "weight": canary_weight},
        ]}]},
    }
    destination_rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "restaurant"},
        "spec": {"host": "restaurant", "subsets": [{"name": "stable", "labels": {"version": "v1"}},
                                                    {"name": "canary", "labels": {"version": "v2"}}]},
    }
    return yaml.safe_dump_all([virtual_service, destination_rule], sort_keys=False)


_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
_METADATA = {"type": "object", "required": ["name"], "properties": {"name": _NAME}}
#: This course's own, partial schemas for the two Istio kinds it writes (fields as in Istio's reference).
ISTIO_SCHEMAS: dict[str, dict[str, Any]] = {
    "VirtualService": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {"type": "object", "required": ["hosts", "http"], "properties": {
                "hosts": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "http": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["route"], "properties": {"route": {
                        "type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["destination"], "additionalProperties": False,
                            "properties": {
                                "destination": {"type": "object", "required": ["host"], "properties": {
                                    "host": {"type": "string"}, "subset": {"type": "string"}}},
                                "weight": {"type": "integer", "minimum": 0, "maximum": 100},
                                "headers": {"type": "object"},
                            }}}}}},
            }},
        },
    },
    "DestinationRule": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {"type": "object", "required": ["host"], "properties": {
                "host": {"type": "string"},
                "subsets": {"type": "array", "items": {
                    "type": "object", "required": ["name"], "properties": {
                        "name": _NAME, "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}},
            }},
        },
    },
}


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


def _check_weights(doc: dict[str, Any]) -> list[str]:
    problems = []
    for i, rule in enumerate(doc.get("spec", {}).get("http", [])):
        routes = rule.get("route", []) if isinstance(rule, dict) else []
        weights = [r.get("weight", 0) for r in routes if isinstance(r, dict)]
        if len(routes) > 1 and all(isinstance(w, int) for w in weights) and sum(weights) != 100:
            problems.append(f"VirtualService spec.http.{i}: the route weights add up to {sum(weights)}, not 100")
    return problems


def validate_manifests(text: str, *, version: str = KUBERNETES_VERSION) -> ManifestReport:
    """Check every YAML document in ``text``: Kubernetes kinds against the real schemas, Istio kinds against ours."""
    import jsonschema
    import kubernetes_validate

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
        if kind in ISTIO_SCHEMAS:
            validator = jsonschema.Draft202012Validator(ISTIO_SCHEMAS[kind])
            for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
                problems.append(f"{kind} {_where(error.path)}: {error.message}")
            if kind == "VirtualService":
                problems += _check_weights(doc)
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{kind} {_where(error.path)}: {error.message}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
            problems.append(f"{kind}: no Kubernetes {version} schema for apiVersion {doc['apiVersion']!r} "
                            f"and kind {kind!r} ({type(error).__name__})")
    return ManifestReport(tuple(kinds), tuple(problems))
