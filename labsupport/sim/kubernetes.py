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
* the **scheduler** binds each pending pod to a Ready node whose free CPU and memory fit the pod's requests,
  the best by kube-scheduler's default scoring (:func:`score_nodes`), ties broken at random from the seed;
* the **kubelet** on that node starts the pod's containers and reports the pod Ready;
* when the set of ready pods has changed, the **controller-manager**'s EndpointSlice controller rewrites the
  Service's EndpointSlice, and **kube-proxy** on each node follows it and reprograms the forwarding rules.

The model is pure: the same parameters give the same trace. (The canary release that used to follow here is
lesson 05's :func:`labsupport.sim.mesh.run_release`.)
"""

from __future__ import annotations

import functools
import math
import random
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Schema, Series, Trace

__all__ = [
    "ACTORS",
    "Cluster",
    "ClusterParams",
    "NodeScores",
    "PodState",
    "SCORE_WEIGHTS",
    "resolve_surge",
    "run_cluster",
    "score_nodes",
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


# ---- kube-scheduler's default profile, as far as it tells identical nodes apart -------------------------------

#: Score plugins of kube-scheduler's default profile that tell this model's nodes apart, with their weights
#: (``pkg/scheduler/apis/config/v1/default_plugins.go``). The profile's other score plugins give every node
#: here the same score: TaintToleration (3; no PreferNoSchedule taints), NodeAffinity (2) and InterPodAffinity
#: (2; no preferences); ImageLocality (1), which favours nodes that already hold the image, is left out.
SCORE_WEIGHTS = {"NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1, "PodTopologySpread": 2}
MAX_NODE_SCORE = 100  # framework.MaxNodeScore: every plugin scores 0-100 before its weight
#: Requests the scheduler scores a pod with when it has none (``pkg/scheduler/util``: DefaultMilliCPURequest,
#: DefaultMemoryRequest): 100 millicores and 200 MiB. Filtering still uses the real requests (0 fits anywhere).
DEFAULT_CPU_REQUEST_M = 100
DEFAULT_MEMORY_REQUEST_MI = 200
#: PodTopologySpread's system default constraint on ``kubernetes.io/hostname`` (``maxSkew: 3``,
#: ``whenUnsatisfiable: ScheduleAnyway``). Its other default, ``topology.kubernetes.io/zone`` with maxSkew 5,
#: scores nothing here: the model's nodes carry no zone label.
HOSTNAME_MAX_SKEW = 3
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class NodeScores:
    """Each score plugin's score (0-100, before weights) for each feasible node, and the weighted total."""

    nodes: np.ndarray  # the feasible nodes' numbers, in node order
    fit: np.ndarray  # NodeResourcesFit, LeastAllocated over CPU and memory (weights 1 and 1)
    balanced: np.ndarray  # NodeResourcesBalancedAllocation (all 0 when the plugin skips a pod without requests)
    spread: np.ndarray  # PodTopologySpread with the system default constraints, normalised
    total: np.ndarray  # fit × 1 + balanced × 1 + spread × 2

    @property
    def best(self) -> np.ndarray:
        """The nodes with the highest total: the scheduler picks one of them at random."""
        best: np.ndarray = self.nodes[self.total == self.total.max()]
        return best


def score_nodes(feasible: np.ndarray, pods_on_node: np.ndarray, same_owner_on_node: np.ndarray, *,
                node_cpu_m: int, node_memory_mi: int, pod_cpu_m: int, pod_memory_mi: int) -> NodeScores:
    """Score the ``feasible`` nodes (their numbers) for one pod as kube-scheduler's default profile does.

    ``pods_on_node[n]`` counts the pods bound to node ``n`` (every pod requests the same), and
    ``same_owner_on_node[n]`` those of the pod's own ReplicaSet. The formulas are kube-scheduler's
    (``pkg/scheduler/framework/plugins/``), in its integer arithmetic:

    * ``noderesources/least_allocated.go``: per resource ``(allocatable - requested) × 100 // allocatable``
      (0 when over), where requested is the node's pods plus this one, each counted with the non-zero defaults
      when it has no request (``resource_allocation.go``: ``NonZeroRequested``); then the mean of CPU and
      memory, ``// 2``;
    * ``noderesources/balanced_allocation.go``: with the real requests, each resource's fraction of
      allocatable (at most 1), ``std = |f_cpu - f_mem| / 2``, ``int((1 - std) × 100)``; a pod with neither
      request is skipped (every node scores 0);
    * ``podtopologyspread/scoring.go``: ``round(count × ln(feasible nodes + 2) + (maxSkew - 1))`` with the
      pod's ReplicaSet's pods on the node, then ``100 × (max + min - score) // max`` over the feasible nodes.
    """
    nodes = np.asarray(feasible, dtype=np.int64)
    fit_by_count, balanced_by_count = _resource_scores(node_cpu_m, node_memory_mi, pod_cpu_m, pod_memory_mi)
    count = pods_on_node[nodes]
    fit, balanced = fit_by_count[count], balanced_by_count[count]
    raw = same_owner_on_node[nodes] * math.log(len(nodes) + 2) + (HOSTNAME_MAX_SKEW - 1)
    raw = np.floor(raw + 0.5).astype(np.int64)  # Go's math.Round: halves away from zero (all positive here)
    top, bottom = int(raw.max()), int(raw.min())
    spread = np.full(len(nodes), MAX_NODE_SCORE, dtype=np.int64) if top == 0 \
        else MAX_NODE_SCORE * (top + bottom - raw) // top
    w = SCORE_WEIGHTS
    total = (fit * w["NodeResourcesFit"] + balanced * w["NodeResourcesBalancedAllocation"]
             + spread * w["PodTopologySpread"])
    return NodeScores(nodes, fit, balanced, spread, total)


@functools.lru_cache(maxsize=64)
def _resource_scores(node_cpu_m: int, node_memory_mi: int, pod_cpu_m: int,
                     pod_memory_mi: int) -> tuple[np.ndarray, np.ndarray]:
    """NodeResourcesFit's and NodeResourcesBalancedAllocation's scores of a node by the number of pods it holds
    before this one (0 to 1,000): with identical pods they depend on nothing else."""
    with_pod = np.arange(1, 1002, dtype=np.int64)  # the node's pods and the one being placed
    cpu_alloc, mem_alloc = int(node_cpu_m), int(node_memory_mi) * _MIB

    def least(requested: np.ndarray, allocatable: int) -> np.ndarray:
        return np.where(requested > allocatable, 0, (allocatable - requested) * MAX_NODE_SCORE // allocatable)

    nz_cpu = pod_cpu_m or DEFAULT_CPU_REQUEST_M
    nz_mem = (pod_memory_mi or DEFAULT_MEMORY_REQUEST_MI) * _MIB
    fit = (least(with_pod * nz_cpu, cpu_alloc) + least(with_pod * nz_mem, mem_alloc)) // 2
    if pod_cpu_m == 0 and pod_memory_mi == 0:
        balanced = np.zeros(len(with_pod), dtype=np.int64)
    else:
        f_cpu = np.minimum(with_pod * pod_cpu_m / cpu_alloc, 1.0)
        f_mem = np.minimum(with_pod * (pod_memory_mi * _MIB) / mem_alloc, 1.0)
        balanced = np.trunc((1.0 - np.abs((f_cpu - f_mem) / 2)) * MAX_NODE_SCORE).astype(np.int64)
    for table in (fit, balanced):
        table.setflags(write=False)
    return fit, balanced


@dataclass(frozen=True, slots=True)
class ClusterParams:
    """Parameters of :func:`run_cluster`; every field is checked and a bad one gets a clear message."""

    nodes: int = 3
    node_cpu_m: int = 2000  # allocatable millicores per node
    node_memory_mi: int = 4096
    replicas: int = 4
    pod_cpu_m: int = 250  # the pod's resource requests; 0: no request (scored with the scheduler's defaults)
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
    node_max_pods: int = 110  # the kubelet's --max-pods default: NodeResourcesFit also counts pods

    def validated(self) -> ClusterParams:
        # kube-scheduler scores every feasible node of a cluster of up to 100 (minFeasibleNodesToFind); above
        # that it scores only a share of them, which this model does not do
        check_int("nodes", self.nodes, low=1, high=MAX_NODES)
        check_int("node_cpu_m", self.node_cpu_m, low=100, high=256000)
        check_int("node_memory_mi", self.node_memory_mi, low=128, high=1048576)
        check_int("replicas", self.replicas, low=0, high=MAX_REPLICAS)
        check_int("pod_cpu_m", self.pod_cpu_m, low=0, high=256000)
        check_int("pod_memory_mi", self.pod_memory_mi, low=0, high=1048576)
        check_int("node_max_pods", self.node_max_pods, low=1, high=1000)
        duration = check_number("duration_s", self.duration_s, low=10, high=1800)
        check_number("pod_start_s", self.pod_start_s, low=1, high=120)
        if self.kill_node is not None:
            check_int("kill_node", self.kill_node, low=0, high=self.nodes - 1)
            check_number("kill_at_s", self.kill_at_s, low=0, high=duration)
        check_number("node_monitor_grace_period_s", self.node_monitor_grace_period_s, low=1, high=600)
        check_number("toleration_s", self.toleration_s, low=0, high=3600)
        if self.scale_to is not None:
            check_int("scale_to", self.scale_to, low=0, high=MAX_REPLICAS)
            check_number("scale_at_s", self.scale_at_s, low=0, high=duration)
        if self.rollout_at_s is not None:
            check_number("rollout_at_s", self.rollout_at_s, low=0, high=duration)
        biggest = max(self.replicas, self.scale_to or 0, 1)
        resolve_surge(biggest, self.max_surge, self.max_unavailable)  # a bad maxSurge/maxUnavailable fails here
        return self


MAX_NODES = 100
MAX_REPLICAS = 1000
_NONE, _PENDING, _STARTING, _READY, _UNKNOWN = (np.int8(state) for state in PodState)  # pod_state's dtype: compared
# with an int8 scalar, numpy skips the promotion of a Python int (a fifth of each comparison of these small arrays)
_V2 = np.int64(2)  # pod_version's dtype (see above)
# the ReplicaSet controller deletes pods that are not ready first (Pending, then Unknown, then starting), newest first
_DELETE_RANK = np.array([9, 0, 2, 3, 1], dtype=np.int64)  # indexed by PodState
_SCORES = ("fit", "balanced", "spread", "total")  # NodeScores' fields, recorded per placement as score_<name>
_TIME, _POD, _PLACEMENT = ("time",), ("pod",), ("placement",)
_TALLY = ("pods", "ready", "ready_v2", "pending", "desired")  # the per-second counts


class Cluster(Simulation):
    """:func:`run_cluster`'s model: a ``tick`` every second, in which each part of Kubernetes acts in turn."""

    SCHEMA = Schema("kubernetes-cluster", (
        Series("time_s", "s", _TIME, "one step per second"),
        Series("pods", "count", _TIME, "pods that exist (any state but NONE)"),
        Series("ready", "count", _TIME, "ready pods: the Service's endpoints"),
        Series("ready_v2", "count", _TIME, "ready pods of version 2"),
        Series("pending", "count", _TIME, "pods waiting for the scheduler"),
        Series("desired", "count", _TIME, "the Deployment's replicas"),
        Series("node_ready", "", ("time", "node"), "each node's Ready condition"),
        Series("pod_state", "", ("time", "pod"), "each pod's PodState code"),
        Series("pod_node", "", ("time", "pod"), "the node each pod is bound to, -1 for none"),
        Series("pod_version", "", _POD, "each pod's version"),
        Series("pod_name", "", _POD),
        Series("placement_time_s", "s", _PLACEMENT, "when the scheduler bound the pod"),
        Series("placement_pod", "", _PLACEMENT, "which pod (its column in pod_*)"),
        Series("placement_node", "", _PLACEMENT, "the node it was bound to"),
        Series("placement_ties", "count", _PLACEMENT, "how many nodes shared the best total"),
        *(Series(f"score_{name}", "score", ("placement", "node"), "each node's score, -1 where not feasible")
          for name in _SCORES),
    ))

    def __init__(self, p: ClusterParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        # kube-scheduler's ties are broken with Python's Mersenne Twister from the seed (as frozen in the
        # snapshots), not numpy's generator
        self.tie_break = random.Random(seed)
        self.steps = int(math.floor(p.duration_s)) + 1
        self.node_ready = np.ones(p.nodes, dtype=bool)
        self.node_alive = np.ones(p.nodes, dtype=bool)
        self.not_ready_since: float | None = None  # of the killed node
        # pods: parallel arrays, one entry per pod ever created, grown as needed
        self.pod_state = np.zeros(64, dtype=np.int8)
        self.pod_node = np.full(64, -1, dtype=np.int64)
        self.pod_version = np.zeros(64, dtype=np.int64)
        self.pod_ready_at = np.full(64, math.inf)
        self.pod_name: list[str] = []
        self.n = 0
        self.history_state: list[np.ndarray] = []
        self.history_node: list[np.ndarray] = []
        self.placements: list[tuple[float, int, int, int]] = []  # time, pod, node, ties
        self.score_rows: list[tuple[np.ndarray, NodeScores]] = []
        self.desired = p.replicas
        self.version = 1
        self.counter = {1: 0, 2: 0}
        self.last_endpoints = np.zeros(0, dtype=np.int64)
        self.tally: list[tuple[Any, ...]] = []  # per second: the counts of _TALLY (numpy or Python ints)
        self.series_node_ready = np.zeros((self.steps, p.nodes), dtype=bool)
        # the ticks at which the API server scales and rolls out (none: never equal to a tick's time)
        self.scale_at_tick: float = math.ceil(p.scale_at_s) if p.scale_to is not None else math.nan
        self.rollout_at_tick: float = math.ceil(p.rollout_at_s) if p.rollout_at_s is not None else math.nan
        # NodeResourcesFit's filter (fit.go): the node's pods' requests plus this pod's within allocatable, and
        # fewer pods than the node allows; with identical pods that is a number of pods per node
        self.room_per_node = min(p.node_max_pods, p.node_cpu_m // p.pod_cpu_m if p.pod_cpu_m else p.node_max_pods,
                                 p.node_memory_mi // p.pod_memory_mi if p.pod_memory_mi else p.node_max_pods)

    # -- pods ---------------------------------------------------------------------------------------------
    def create(self, v: int, count: int) -> None:
        n = self.n
        if n + count > len(self.pod_state):
            more = max(2 * len(self.pod_state), n + count) - len(self.pod_state)
            self.pod_state = np.concatenate([self.pod_state, np.zeros(more, dtype=np.int8)])
            self.pod_node = np.concatenate([self.pod_node, np.full(more, -1, dtype=np.int64)])
            self.pod_version = np.concatenate([self.pod_version, np.zeros(more, dtype=np.int64)])
            self.pod_ready_at = np.concatenate([self.pod_ready_at, np.full(more, math.inf)])
        self.pod_state[n:n + count] = _PENDING
        self.pod_version[n:n + count] = v
        for _ in range(count):
            name = f"web-v{v}-{self.counter[v]}"
            self.counter[v] += 1
            self.pod_name.append(name)
            self.record("create-pod", name, CM, version=f"v{v}")
        self.n = n + count

    def delete(self, ids: np.ndarray, why: str) -> None:
        self.pod_state[ids] = _NONE
        for i in ids.tolist():
            self.record("delete-pod", self.pod_name[i], CM, reason=why)

    def delete_order(self, ids: np.ndarray) -> np.ndarray:
        return ids[np.lexsort((-ids, _DELETE_RANK[self.pod_state[ids]]))]

    # -- one second ---------------------------------------------------------------------------------------
    def on_tick(self, step: int) -> None:
        """Each part of Kubernetes acts in turn, then the state at the end of the second is recorded."""
        self.fault()
        self.api_server(step)
        self.node_lifecycle_controller()
        self.deployment_controller()
        states = self.pod_state[:self.n]  # every pod's state, from here on changed in place
        self.scheduler(states)
        self.kubelets(states)
        endpoints = self.endpoint_slice_controller(states)
        self.sample(step, states, endpoints)
        if step + 1 < self.steps:
            self.schedule(float(step + 1), "tick", step=step + 1)

    def fault(self) -> None:
        """The node's machine dies, its kubelet stops posting status."""
        p = self.p
        if p.kill_node is not None and self.node_alive[p.kill_node] and self.now >= p.kill_at_s:
            self.node_alive[p.kill_node] = False
            self.record("node-down", f"node-{p.kill_node}", FAULT)

    def api_server(self, step: int) -> None:
        """The API server records what users ask for."""
        p, t = self.p, self.now
        if step == 0:
            self.record("apply", "deployment/web", API, replicas=p.replicas, image="restaurant:v1")
        if t == self.scale_at_tick and p.scale_to is not None:
            self.desired = p.scale_to
            self.record("scale", "deployment/web", API, replicas=self.desired)
        if t == self.rollout_at_tick:
            self.version = 2
            self.record("apply", "deployment/web", API, image="restaurant:v2")

    def node_lifecycle_controller(self) -> None:
        """A node silent for the grace period is marked not ready and tainted; its pods go after the toleration."""
        p, t, n = self.p, self.now, self.n
        if p.kill_node is None:
            return
        dead = p.kill_node
        if self.node_ready[dead] and not self.node_alive[dead] and t >= p.kill_at_s + p.node_monitor_grace_period_s:
            self.node_ready[dead] = False
            self.not_ready_since = t
            self.record("mark-not-ready", f"node-{dead}", CM, condition="Ready=Unknown",
                        taint="node.kubernetes.io/unreachable:NoExecute")
            on_dead = (self.pod_state[:n] != _NONE) & (self.pod_node[:n] == dead)
            self.pod_state[:n][on_dead] = _UNKNOWN
        if self.not_ready_since is not None and t >= self.not_ready_since + p.toleration_s:
            self.delete(np.flatnonzero((self.pod_state[:n] != _NONE) & (self.pod_node[:n] == dead)), "evicted")
            self.not_ready_since = None

    def deployment_controller(self) -> None:
        """The Deployment and ReplicaSet controllers: create or delete pods towards the desired state."""
        desired, version, n = self.desired, self.version, self.n
        # counts first, index arrays only where needed: most seconds nothing changes
        alive = self.pod_state[:n] != _NONE
        is_old = alive & (self.pod_version[:n] != version)
        count, count_old = int(np.count_nonzero(alive)), int(np.count_nonzero(is_old))
        count_new = count - count_old
        if count_old:  # a rolling update is in progress
            surge, unavailable = resolve_surge(desired, self.p.max_surge, self.p.max_unavailable)
            room = desired + surge - count
            self.create(version, max(0, min(room, desired - count_new)))
            available = int(np.count_nonzero(self.pod_state[:n] == _READY))  # pods just created are not ready
            removable = available - (desired - unavailable)
            ordered = self.delete_order(is_old.nonzero()[0])
            ready = self.pod_state[ordered] == _READY
            # an old pod that serves nobody can always go; ready ones only while enough stay available
            gone = ~ready | (ready & (np.cumsum(ready) <= removable))
            self.delete(ordered[gone], "rolling update")
        elif count_new < desired:
            self.create(version, desired - count_new)
        elif count_new > desired:
            self.delete(self.delete_order(alive.nonzero()[0])[: count_new - desired], "scale down")

    def scheduler(self, states: np.ndarray) -> None:
        """Bind pending pods, oldest first, each to the best feasible node (see :func:`score_nodes`)."""
        p, t, n = self.p, self.now, self.n
        pod_node, pod_version = self.pod_node, self.pod_version
        pending = (states == _PENDING).nonzero()[0].tolist()
        if not pending:
            return
        bound = (states != _NONE) & (pod_node[:n] >= 0)
        on_node = np.bincount(pod_node[:n][bound], minlength=p.nodes)
        by_version = {v: np.bincount(pod_node[:n][bound & (pod_version[:n] == v)], minlength=p.nodes)
                      for v in (1, 2)}
        for i in pending:
            feasible = (self.node_ready & (on_node < self.room_per_node)).nonzero()[0]
            if not len(feasible):
                break  # every pod requests the same: if this one fits nowhere, neither does the next
            v = int(pod_version[i])
            scores = score_nodes(feasible, on_node, by_version[v], node_cpu_m=p.node_cpu_m,
                                 node_memory_mi=p.node_memory_mi, pod_cpu_m=p.pod_cpu_m,
                                 pod_memory_mi=p.pod_memory_mi)
            best = scores.best
            chosen = int(best[self.tie_break.randrange(len(best))]) if len(best) > 1 else int(best[0])
            on_node[chosen] += 1
            by_version[v][chosen] += 1
            pod_node[i] = chosen
            states[i] = _STARTING
            self.pod_ready_at[i] = t + p.pod_start_s
            self.placements.append((t, i, chosen, len(best)))
            self.score_rows.append((feasible, scores))
            self.record("bind", self.pod_name[i], SCHED, node=f"node-{chosen}")

    def kubelets(self, states: np.ndarray) -> None:
        """A started pod becomes Ready (a dead node's kubelet does nothing)."""
        starting = (states == _STARTING).nonzero()[0]
        if len(starting):
            done = starting[self.node_alive[self.pod_node[starting]] & (self.now >= self.pod_ready_at[starting])]
            states[done] = _READY
            for i in done.tolist():
                self.record("pod-ready", self.pod_name[i], KUBELET, node=f"node-{self.pod_node[i]}")

    def endpoint_slice_controller(self, states: np.ndarray) -> np.ndarray:
        """The Service's endpoints are the ready pods: when they change, the EndpointSlice controller (in the
        controller manager) updates the EndpointSlice, and kube-proxy follows it."""
        endpoints: np.ndarray = (states == _READY).nonzero()[0]
        last = self.last_endpoints
        # np.array_equal without its overhead: two int64 arrays are equal when their bytes are (a third of `==`
        # and `.all()` on these short arrays)
        if len(endpoints) != len(last) or endpoints.tobytes() != last.tobytes():
            self.record("update-endpoints", "endpointslice/web", CM, ready=len(endpoints))
            self.record("program-rules", "service/web", PROXY, endpoints=len(endpoints))
            self.last_endpoints = endpoints
        return endpoints

    def sample(self, k: int, states: np.ndarray, endpoints: np.ndarray) -> None:
        n = self.n
        self.history_state.append(states.copy())
        self.history_node.append(self.pod_node[:n].copy())
        counts = np.bincount(states, minlength=5)
        ready_v2 = np.count_nonzero(self.pod_version[endpoints] == _V2) if self.version == 2 else 0  # no v2 pod yet
        self.tally.append((n - counts[_NONE], len(endpoints), ready_v2, counts[_PENDING], self.desired))
        self.series_node_ready[k] = self.node_ready

    # -- the trace ----------------------------------------------------------------------------------------
    def pod_series(self) -> dict[str, np.ndarray]:
        """Each pod's state and node at the end of every second (a pod not created yet: NONE, node -1)."""
        n = self.n
        state = np.zeros((self.steps, n), dtype=np.int8)
        node = np.full((self.steps, n), -1, dtype=np.int64)
        for k in range(self.steps):
            row = self.history_state[k]
            state[k, : len(row)] = row
            node[k, : len(row)] = self.history_node[k]
        return {"pod_state": state, "pod_node": np.where(state == _NONE, -1, node),
                "pod_version": self.pod_version[:n].copy(), "pod_name": np.array(self.pod_name, dtype=object)}

    def placement_series(self) -> dict[str, np.ndarray]:
        """One row per bind: when, which pod, which node, how many tied; and every node's scores for it."""
        scored = {name: np.full((len(self.score_rows), self.p.nodes), -1, dtype=np.int64) for name in _SCORES}
        for row, (feasible, scores) in enumerate(self.score_rows):
            for name, table in scored.items():
                table[row, feasible] = getattr(scores, name)
        placed = np.array(self.placements, dtype=float).reshape(-1, 4)
        return {
            "placement_time_s": placed[:, 0],
            "placement_pod": placed[:, 1].astype(np.int64),
            "placement_node": placed[:, 2].astype(np.int64),
            "placement_ties": placed[:, 3].astype(np.int64),
            **{f"score_{name}": table for name, table in scored.items()},
        }

    def finish(self) -> Trace:
        return self.trace(
            params=params_dict(self.p),
            # node_room_pods: how many of these pods one node holds (NodeResourcesFit's filter, in __init__)
            computed={"score_weights": dict(SCORE_WEIGHTS), "node_room_pods": int(self.room_per_node)},
            series={
                "time_s": np.arange(self.steps, dtype=float),
                **dict(zip(_TALLY, np.array(self.tally, dtype=np.int64).reshape(-1, len(_TALLY)).T, strict=True)),
                "node_ready": self.series_node_ready,
                **self.pod_series(),
                **self.placement_series(),
            },
        )


def run_cluster(params: ClusterParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the cluster model and return its trace (``run_cluster(replicas=6, kill_node=None)``).

    The scheduler binds pending pods, oldest first, each to a Ready node that passes NodeResourcesFit's filter
    (the node's pods' requests plus this pod's fit its allocatable CPU and memory, and it holds fewer than
    ``node_max_pods``), scoring the feasible nodes with :func:`score_nodes` and picking the highest total. Ties
    are broken as ``selectHost`` does (``pkg/scheduler/schedule_one.go``: reservoir sampling, so each of the
    ``k`` best nodes has probability 1/k), drawn here in one go from the run's ``seed``.

    Besides the events and per-second series, the trace holds each placement's reasons: ``placement_*``
    (one row per bind: time, pod, node, how many nodes tied) and ``score_*`` (one row per bind, one column per
    node: each plugin's score and the weighted total, -1 for a node that was not feasible).
    """
    p = with_overrides(params or ClusterParams(), overrides)
    sim = Cluster(p, seed)
    sim.schedule(0.0, "tick", step=0)
    sim.run()
    return sim.finish()
