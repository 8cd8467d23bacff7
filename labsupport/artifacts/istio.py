"""Istio's routing objects for the Restaurant Service's release, rendered as YAML and checked against Istio's API.

:func:`render_release_routes` writes the ``VirtualService`` and ``DestinationRule`` that one moment of a
release means (the HTTP rules come from :func:`labsupport.sim.mesh.release_routes`, the same rules the model
routes requests with); :func:`routes_at` picks the moment out of a :func:`~labsupport.sim.mesh.run_release`
trace. :func:`istio_problems` checks one Istio document with the PyPI package ``cloudcoil.models.istio``,
pydantic models generated from Istio's own CustomResourceDefinitions. Those models accept and silently drop
fields they do not know, so the parsed document is compared with the given one and every field that did not
survive is reported, as ``kubectl apply --validate=strict`` would. A few rules that Istio enforces beyond
its types (in the CRDs' validation rules and istiod's validating webhook, ``pkg/config/validation``) are
checked too: durations, ``retryOn`` policies, weights. :func:`labsupport.artifacts.kubernetes.validate_manifests`
is the one entry point: it sends Istio documents here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from labsupport.sim import Trace
from labsupport.sim.mesh import HOST, OutlierParams, release_routes

__all__ = ["ISTIO_API", "destination_rule", "istio_problems", "render_release_routes", "routes_at",
           "virtual_service"]

#: The API group and the versions whose types are checked.
ISTIO_API = "networking.istio.io"
_VERSIONS = ("v1", "v1beta1", "v1alpha3")
# Go duration syntax, as Istio's CRDs parse durations (``duration(self)`` in their validation rules)
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
# Envoy's retry conditions that istiod accepts in retryOn (pkg/config/validation: supportedRetryOnPolicies)
RETRY_ON = frozenset({"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
                      "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
                      "retriable-headers", "http3-post-connect-failure", "cancelled", "deadline-exceeded",
                      "internal", "resource-exhausted", "unavailable"})


def virtual_service(http: list[dict[str, Any]], *, retries: dict[str, Any] | None = None,
                    timeout: str | None = None) -> dict[str, Any]:
    """A VirtualService for the Restaurant Service holding the HTTP rules ``http`` (each given retries/timeout)."""
    rules = []
    for rule in http:
        rule = dict(rule)
        if timeout is not None:
            rule["timeout"] = timeout
        if retries is not None:
            rule["retries"] = dict(retries)
        rules.append(rule)
    return {"apiVersion": f"{ISTIO_API}/v1", "kind": "VirtualService", "metadata": {"name": HOST},
            "spec": {"hosts": [HOST], "http": rules}}


def destination_rule(outlier: OutlierParams | None = None) -> dict[str, Any]:
    """The DestinationRule naming the two subsets (Flagger's primary and canary workloads) with outlier detection.

    Without ``outlier`` it asks for none: Istio does no outlier detection unless a DestinationRule asks.
    """
    spec: dict[str, Any] = {"host": HOST, "subsets": [
        {"name": "primary", "labels": {"app": f"{HOST}-primary"}},
        {"name": "canary", "labels": {"app": HOST}},
    ]}
    if outlier is not None:
        o = outlier.validated()
        spec["trafficPolicy"] = {"outlierDetection": {
            "consecutive5xxErrors": o.consecutive_5xx, "interval": f"{o.interval_s:g}s",
            "baseEjectionTime": f"{o.base_ejection_s:g}s", "maxEjectionPercent": o.max_ejection_percent}}
    return {"apiVersion": f"{ISTIO_API}/v1", "kind": "DestinationRule", "metadata": {"name": HOST}, "spec": spec}


def render_release_routes(canary_weight: int, primary_weight: int | None = None, *, header_routing: bool = False,
                          outlier: OutlierParams | None = None, retries: dict[str, Any] | None = None,
                          timeout: str | None = "10s") -> str:
    """The VirtualService and DestinationRule for one moment of a release, as one YAML text (two documents)."""
    for name, value in (("canary_weight", canary_weight), ("primary_weight", primary_weight)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a whole number from 0 up (a relative share), got {value!r}")
    vs = virtual_service(release_routes(canary_weight, primary_weight, header_routing=header_routing),
                         retries=retries, timeout=timeout)
    return str(yaml.safe_dump_all([vs, destination_rule(outlier or OutlierParams())], sort_keys=False))


def routes_at(trace: Trace, t_s: float) -> str:
    """The routing objects in force at ``t_s`` in a :func:`~labsupport.sim.mesh.run_release` trace."""
    if trace.model != "mesh-release":
        raise ValueError(f"routes_at reads a run_release trace, not a {trace.model!r} one")
    canary, primary, testers = 0, 100, False
    for e in trace.events:
        if e.time_s > t_s:
            break
        if e.kind == "push-config":
            canary, primary, testers = e.data["canary"], e.data["primary"], bool(e.data["testers_to_canary"])
    return render_release_routes(canary, primary, header_routing=testers)


# ---- checking ---------------------------------------------------------------------------------------------

def _where(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _unknown_fields(given: Any, parsed: Any, path: tuple[Any, ...]) -> list[str]:
    """Fields of ``given`` that the parsed model ``parsed`` dropped (pydantic ignores unknown fields)."""
    from pydantic import BaseModel

    found: list[str] = []
    if isinstance(parsed, BaseModel) and isinstance(given, Mapping):
        fields = type(parsed).model_fields
        by_key = {(f.alias or name): name for name, f in fields.items()} | {name: name for name in fields}
        for key, value in given.items():
            if key not in by_key:
                known = sorted(f.alias or name for name, f in fields.items())
                found.append(f"{_where((*path, key))}: unknown field {key!r} (known here: {', '.join(known)})")
                continue
            found += _unknown_fields(value, getattr(parsed, by_key[key]), (*path, key))
    elif isinstance(parsed, Mapping) and isinstance(given, Mapping):
        for key, value in given.items():
            if key in parsed:
                found += _unknown_fields(value, parsed[key], (*path, key))
    elif isinstance(parsed, list) and isinstance(given, list):
        for i, (g, q) in enumerate(zip(given, parsed, strict=False)):
            found += _unknown_fields(g, q, (*path, i))
    return found


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Any:
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))


def _istio_rules(doc: Mapping[str, Any]) -> list[str]:
    """What Istio checks beyond the types: durations, retryOn, weights, header matches, percentages."""
    problems = []
    for path, value in _walk(doc):
        key = path[-1] if path else None
        if key in ("timeout", "perTryTimeout", "interval", "baseEjectionTime", "idleTimeout", "connectTimeout") \
                and isinstance(value, str) and not _DURATION.match(value):
            problems.append(f"{_where(path)}: {value!r} is not a duration (write it as 10s, 500ms or 1m30s)")
        if key == "retryOn" and isinstance(value, str):
            for policy in value.split(","):
                if not policy.strip().isdigit() and policy.strip() not in RETRY_ON:
                    problems.append(f"{_where(path)}: {policy.strip()!r} is not a retryOn policy "
                                    f"(valid: {', '.join(sorted(RETRY_ON))}, or an HTTP status code)")
        if key == "attempts" and isinstance(value, int) and value < 0:
            problems.append(f"{_where(path)}: attempts cannot be negative")
        if key == "maxEjectionPercent" and isinstance(value, int) and not 0 <= value <= 100:
            problems.append(f"{_where(path)}: maxEjectionPercent is a percentage from 0 to 100, got {value}")
        if key == "route" and isinstance(value, list) and all(isinstance(r, Mapping) for r in value):
            weights = [r.get("weight", 0) for r in value]
            if any(isinstance(w, int) and w < 0 for w in weights):
                problems.append(f"{_where(path)}: a weight cannot be negative")
            elif len(value) > 1 and all(isinstance(w, int) for w in weights) and sum(weights) == 0:
                problems.append(f"{_where(path)}: the weights add up to 0, so no destination would get traffic "
                                "(weights are relative shares: any total above 0 works)")
        if len(path) >= 2 and path[-2] in ("headers", "withoutHeaders") and isinstance(value, Mapping) \
                and "match" in path[:-2] and len([k for k in value if k in ("exact", "prefix", "regex")]) != 1:
            problems.append(f"{_where(path)}: a header match holds exactly one of exact, prefix or regex")
    return problems


def istio_problems(doc: Mapping[str, Any]) -> list[str]:
    """Everything wrong with one Istio document, each as ``"Kind path: what"``; empty when it is valid."""
    import importlib

    from pydantic import ValidationError

    kind = str(doc.get("kind"))
    api_version = str(doc.get("apiVersion", ""))
    group, _, version = api_version.partition("/")
    if group != ISTIO_API or version not in _VERSIONS:
        return [f"{kind}: apiVersion {api_version!r} is not one of "
                f"{', '.join(f'{ISTIO_API}/{v}' for v in _VERSIONS)}"]
    module = importlib.import_module(f"cloudcoil.models.istio.networking.{version}")
    model = getattr(module, kind, None)
    if model is None or not hasattr(model, "model_validate"):
        return [f"{kind}: {api_version} has no kind {kind!r}"]
    try:
        parsed = model.model_validate(dict(doc))
    except ValidationError as error:
        return [f"{kind} {_where(tuple(e['loc']))}: {e['msg']}" for e in error.errors()]
    problems = [f"{kind} {p}" for p in _unknown_fields(doc, parsed, ())]
    return problems + [f"{kind} {p}" for p in _istio_rules(doc)]
