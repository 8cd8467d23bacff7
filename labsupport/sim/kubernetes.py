"""Lesson 04: a small Kubernetes cluster reconciling desired state.

:func:`run_cluster` steps a cluster of nodes once per second. Each second the parts of Kubernetes act in a
fixed order, each recorded as the ``actor`` of its events:

* the **api-server** records what a user asked for (a scale, a new pod template for a rolling update);
* the **controller-manager** runs the node lifecycle controller (when a node's kubelet has not reported for
  the grace period, it sets the node's ``Ready`` condition to ``Unknown``, adds the
  ``node.kubernetes.io/unreachable:NoExecute`` taint and marks the node's pods not ready; the pods are evicted
  when their toleration of the taint runs out) and the Deployment and ReplicaSet controllers (create or delete
  pods until the actual state matches the desired one, within ``maxSurge`` / ``maxUnavailable`` during a
  rolling update);
* the **scheduler** binds each pending pod to a Ready node whose free CPU and memory fit the pod's requests;
* the **kubelet** on that node starts the pod's containers and reports the pod Ready;
* when the set of ready pods has changed, the **controller-manager**'s EndpointSlice controller rewrites the
  Service's EndpointSlice, and **kube-proxy** on each node follows it and reprograms the forwarding rules.

The model is pure: the same parameters give the same trace. (The canary release that used to follow here is
lesson 05's :func:`labsupport.sim.mesh.run_release`.)
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from enum import IntEnum

import numpy as np

from labsupport.sim._params import ParameterError, check_int, check_number, with_overrides
from labsupport.sim._trace import Event, Trace

__all__ = [
    "ACTORS",
    "ClusterParams",
    "PodState",
    "resolve_surge",
    "run_cluster",
]

#: The parts of Kubernetes that act in :func:`run_cluster`, plus the fault that starts the story.
ACTORS = ("api-server", "controller-manager", "scheduler", "kubelet", "kube-proxy")
API, CM, SCHED, KUBELET, PROXY = ACTORS
FAULT = "fault"


class PodState(IntEnum):
    """A pod slot's state at the end of each second (the code stored in ``pod_state``)."""

    NONE = 0  # not created yet, or deleted
    PENDING = 1  # created, waiting for the scheduler
    STARTING = 2  # bound to a node, the kubelet is starting its containers
    READY = 3  # running and ready: receives Service traffic
    UNKNOWN = 4  # on a node that stopped reporting: marked not ready by the node lifecycle controller, no traffic


_PERCENT = re.compile(r"[0-9]+%")  # Kubernetes' IsValidPercent: ASCII digits then '%', nothing around them


def _amount(name: str, value: int | str, replicas: int, round_up: bool) -> int:
    """An absolute number or a percentage of ``replicas`` (``"25%"``), rounded as Kubernetes does."""
    if isinstance(value, str):
        if not _PERCENT.fullmatch(value):
            raise ParameterError(f"{name} must be a whole number or a percentage such as '25%' (digits 0-9 "
                                 f"then %, no spaces), got {value!r}")
        percent = int(value[:-1])
        if percent > 100 and name == "max_unavailable":
            raise ParameterError(f"{name} must be at most 100%, got {value!r}")
        exact = replicas * percent / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return check_int(name, value, low=0, high=1000)


def _is_zero(value: int | str) -> bool:
    """The value as written is 0 (``0`` or ``"0%"``): what the API server's validation looks at."""
    return value == 0 or value == "0%"


def resolve_surge(replicas: int, max_surge: int | str, max_unavailable: int | str) -> tuple[int, int]:
    """``(surge, unavailable)`` in pods: a percentage of surge rounds up, of unavailable rounds down.

    Two rules of Kubernetes are followed. The API server refuses a Deployment whose ``maxSurge`` and
    ``maxUnavailable`` are both written as 0 (``0`` or ``"0%"``: "may not be 0 when `maxSurge` is 0",
    ``ValidateRollingUpdateDeployment``), so they raise :class:`ParameterError` here too. Percentages that are
    not 0 but round to 0 pods for this many replicas are accepted, and then unavailable becomes 1 so that the
    rollout can progress (the Deployment controller's ``ResolveFenceposts``).
    """
    replicas = check_int("replicas", replicas, low=0, high=100_000)
    surge = _amount("max_surge", max_surge, replicas, round_up=True)
    unavailable = _amount("max_unavailable", max_unavailable, replicas, round_up=False)
    if _is_zero(max_surge) and _is_zero(max_unavailable):
        raise ParameterError("max_unavailable may not be 0 when max_surge is 0 (Kubernetes refuses such a "
                             "Deployment: the rollout could never replace a pod); make one of them at least 1")
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


@dataclass(frozen=True, slots=True)
class ClusterParams:
    """Parameters of :func:`run_cluster`; every field is checked and a bad one gets a clear message."""

    nodes: int = 3
    node_cpu_m: int = 2000  # allocatable millicores per node
    node_memory_mi: int = 4096
    replicas: int = 4
    pod_cpu_m: int = 250  # the pod's resource requests
    pod_memory_mi: int = 256
    pod_start_s: float = 4.0  # image pulled, container started, readiness probe passed
    duration_s: float = 180.0
    kill_node: int | None = 1
    kill_at_s: float = 20.0
    node_monitor_grace_period_s: float = 50.0  # kube-controller-manager default since 1.32 (40 s before)
    toleration_s: float = 20.0  # the real default is 300 s; shortened so the lesson fits in three minutes
    scale_to: int | None = 6
    scale_at_s: float = 100.0
    rollout_at_s: float | None = 120.0
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"

    def validated(self) -> ClusterParams:
        check_int("nodes", self.nodes, low=1, high=8)
        check_int("node_cpu_m", self.node_cpu_m, low=100, high=64000)
        check_int("node_memory_mi", self.node_memory_mi, low=128, high=262144)
        check_int("replicas", self.replicas, low=0, high=40)
        check_int("pod_cpu_m", self.pod_cpu_m, low=1, high=64000)
        check_int("pod_memory_mi", self.pod_memory_mi, low=1, high=262144)
        duration = check_number("duration_s", self.duration_s, low=10, high=1800)
        check_number("pod_start_s", self.pod_start_s, low=1, high=120)
        if self.kill_node is not None:
            check_int("kill_node", self.kill_node, low=0, high=self.nodes - 1)
            check_number("kill_at_s", self.kill_at_s, low=0, high=duration)
        check_number("node_monitor_grace_period_s", self.node_monitor_grace_period_s, low=1, high=600)
        check_number("toleration_s", self.toleration_s, low=0, high=3600)
        if self.scale_to is not None:
            check_int("scale_to", self.scale_to, low=0, high=40)
            check_number("scale_at_s", self.scale_at_s, low=0, high=duration)
        if self.rollout_at_s is not None:
            check_number("rollout_at_s", self.rollout_at_s, low=0, high=duration)
        biggest = max(self.replicas, self.scale_to or 0, 1)
        resolve_surge(biggest, self.max_surge, self.max_unavailable)  # a bad maxSurge/maxUnavailable fails here
        return self


def run_cluster(params: ClusterParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the cluster model and return its trace (``run_cluster(replicas=6, kill_node=None)``).

    The model has no randomness (``seed`` is kept in the trace for the common contract): ties go to the lowest
    node number, and the scheduler prefers the node with the most free CPU (a spreading score, as the default
    ``NodeResourcesFit`` "LeastAllocated" strategy does).
    """
    p = with_overrides(params or ClusterParams(), overrides)
    steps = int(math.floor(p.duration_s)) + 1
    events: list[Event] = []

    def emit(t: float, kind: str, subject: str, actor: str, **data: object) -> None:
        events.append(Event(t, kind, subject, actor, data))

    node_ready = [True] * p.nodes
    node_alive = [True] * p.nodes
    not_ready_since: list[float | None] = [None] * p.nodes
    # pods: parallel lists (one entry per pod ever created)
    pod_name: list[str] = []
    pod_version: list[int] = []
    pod_state: list[PodState] = []
    pod_node: list[int] = []
    pod_ready_at: list[float] = []
    history_state: list[list[int]] = []
    history_node: list[list[int]] = []
    desired = p.replicas
    version = 1
    counter = {1: 0, 2: 0}
    last_endpoints: tuple[int, ...] = ()
    series_total = np.zeros(steps, dtype=np.int64)
    series_ready = np.zeros(steps, dtype=np.int64)
    series_ready_new = np.zeros(steps, dtype=np.int64)
    series_pending = np.zeros(steps, dtype=np.int64)
    series_desired = np.zeros(steps, dtype=np.int64)
    series_node_ready = np.zeros((steps, p.nodes), dtype=bool)

    def live(i: int) -> bool:
        return pod_state[i] != PodState.NONE

    def create(t: float, v: int) -> None:
        name = f"web-v{v}-{counter[v]}"
        counter[v] += 1
        pod_name.append(name)
        pod_version.append(v)
        pod_state.append(PodState.PENDING)
        pod_node.append(-1)
        pod_ready_at.append(math.inf)
        emit(t, "create-pod", name, CM, version=f"v{v}")

    def delete(t: float, i: int, why: str) -> None:
        pod_state[i] = PodState.NONE
        emit(t, "delete-pod", pod_name[i], CM, reason=why)

    def delete_order(ids: list[int]) -> list[int]:
        # not-yet-ready pods go first (as the ReplicaSet controller prefers), newest first
        rank = {PodState.PENDING: 0, PodState.UNKNOWN: 1, PodState.STARTING: 2, PodState.READY: 3}
        return sorted(ids, key=lambda i: (rank[pod_state[i]], -i))

    for k in range(steps):
        t = float(k)
        # 0. a fault: the node's machine dies, its kubelet stops posting status
        if p.kill_node is not None and node_alive[p.kill_node] and t >= p.kill_at_s:
            node_alive[p.kill_node] = False
            emit(t, "node-down", f"node-{p.kill_node}", FAULT)
        # 1. the API server records what users ask for
        if k == 0:
            emit(t, "apply", "deployment/web", API, replicas=p.replicas, image="restaurant:v1")
        if p.scale_to is not None and t == math.ceil(p.scale_at_s):
            desired = p.scale_to
            emit(t, "scale", "deployment/web", API, replicas=desired)
        if p.rollout_at_s is not None and t == math.ceil(p.rollout_at_s):
            version = 2
            emit(t, "apply", "deployment/web", API, image="restaurant:v2")
        # 2. the controller manager: node controller, then the Deployment / ReplicaSet controllers
        for n in range(p.nodes):
            if node_ready[n] and p.kill_node == n and not node_alive[n] \
                    and t >= p.kill_at_s + p.node_monitor_grace_period_s:
                node_ready[n] = False
                not_ready_since[n] = t
                emit(t, "mark-not-ready", f"node-{n}", CM, condition="Ready=Unknown",
                     taint="node.kubernetes.io/unreachable:NoExecute")
                for i in range(len(pod_state)):
                    if live(i) and pod_node[i] == n:
                        pod_state[i] = PodState.UNKNOWN
            since = not_ready_since[n]
            if since is not None and t >= since + p.toleration_s:
                for i in range(len(pod_state)):
                    if live(i) and pod_node[i] == n:
                        delete(t, i, "evicted")
                not_ready_since[n] = None
        ids = [i for i in range(len(pod_state)) if live(i)]
        new = [i for i in ids if pod_version[i] == version]
        old = [i for i in ids if pod_version[i] != version]
        if old:  # a rolling update is in progress
            surge, unavailable = resolve_surge(desired, p.max_surge, p.max_unavailable)
            room = desired + surge - len(ids)
            for _ in range(max(0, min(room, desired - len(new)))):
                create(t, version)
            available = sum(pod_state[i] == PodState.READY for i in ids)
            removable = available - (desired - unavailable)
            unready_old = [i for i in old if pod_state[i] != PodState.READY]
            for i in delete_order(old):
                if i in unready_old:
                    delete(t, i, "rolling update")  # an old pod that serves nobody can always go
                elif removable > 0:
                    removable -= 1
                    delete(t, i, "rolling update")
        else:
            if len(new) < desired:
                for _ in range(desired - len(new)):
                    create(t, version)
            elif len(new) > desired:
                for i in delete_order(new)[: len(new) - desired]:
                    delete(t, i, "scale down")
        # 3. the scheduler: bind pending pods, oldest first, to the Ready node with most free CPU that fits
        used_cpu = [0] * p.nodes
        used_mem = [0] * p.nodes
        for i in range(len(pod_state)):
            if live(i) and pod_node[i] >= 0:
                used_cpu[pod_node[i]] += p.pod_cpu_m
                used_mem[pod_node[i]] += p.pod_memory_mi
        for i in range(len(pod_state)):
            if pod_state[i] != PodState.PENDING:
                continue
            fits = [n for n in range(p.nodes) if node_ready[n] and used_cpu[n] + p.pod_cpu_m <= p.node_cpu_m
                     and used_mem[n] + p.pod_memory_mi <= p.node_memory_mi]
            if not fits:
                continue
            n = max(fits, key=lambda n: (p.node_cpu_m - used_cpu[n], -n))
            used_cpu[n] += p.pod_cpu_m
            used_mem[n] += p.pod_memory_mi
            pod_node[i] = n
            pod_state[i] = PodState.STARTING
            pod_ready_at[i] = t + p.pod_start_s
            emit(t, "bind", pod_name[i], SCHED, node=f"node-{n}")
        # 4. the kubelets: a started pod becomes Ready (a dead node's kubelet does nothing)
        for i in range(len(pod_state)):
            if pod_state[i] == PodState.STARTING and node_alive[pod_node[i]] and t >= pod_ready_at[i]:
                pod_state[i] = PodState.READY
                emit(t, "pod-ready", pod_name[i], KUBELET, node=f"node-{pod_node[i]}")
        # 5. the Service's endpoints are the ready pods: when they change, the EndpointSlice controller (in the
        #    controller manager) updates the EndpointSlice, and kube-proxy follows it
        endpoints = tuple(i for i in range(len(pod_state)) if pod_state[i] == PodState.READY)
        if endpoints != last_endpoints:
            emit(t, "update-endpoints", "endpointslice/web", CM, ready=len(endpoints))
            emit(t, "program-rules", "service/web", PROXY, endpoints=len(endpoints))
            last_endpoints = endpoints
        # record
        history_state.append([int(s) for s in pod_state])
        history_node.append(list(pod_node))
        ids = [i for i in range(len(pod_state)) if live(i)]
        series_total[k] = len(ids)
        series_ready[k] = len(endpoints)
        series_ready_new[k] = sum(pod_version[i] == 2 for i in endpoints)
        series_pending[k] = sum(pod_state[i] == PodState.PENDING for i in ids)
        series_desired[k] = desired
        series_node_ready[k] = node_ready

    n_pods = len(pod_name)
    state = np.zeros((steps, n_pods), dtype=np.int8)
    node = np.full((steps, n_pods), -1, dtype=np.int64)
    for k in range(steps):
        row = history_state[k]
        state[k, : len(row)] = row
        node[k, : len(row)] = history_node[k]
    node = np.where(state == PodState.NONE, -1, node)
    return Trace(
        model="kubernetes-cluster",
        params=asdict(p),
        seed=seed,
        events=tuple(events),
        series={
            "time_s": np.arange(steps, dtype=float),
            "pods": series_total,
            "ready": series_ready,
            "ready_v2": series_ready_new,
            "pending": series_pending,
            "desired": series_desired,
            "node_ready": series_node_ready,
            "pod_state": state,
            "pod_node": node,
            "pod_version": np.array(pod_version, dtype=np.int64),
            "pod_name": np.array(pod_name, dtype=object),
        },
    )
