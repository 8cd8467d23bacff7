"""Every "Try these" bullet of every lesson is true of the model: one test per bullet, run at the bullet's setting.

A bullet tells the learner what they will see when they move a panel's controls. Each case below runs the model
(never the view) with the settings the bullet names, the way the lesson's panel passes them, and checks what
the bullet claims. A case is found by a short piece of its bullet's text (the ``key``): a new bullet without a
case, or a case whose bullet has gone, fails ``test_every_bullet_has_exactly_one_case``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from labsupport.course import find_lessons
from labsupport.sim import ParameterError
from labsupport.sim.containers import oom_kills, run_host
from labsupport.sim.kubernetes import run_cluster
from labsupport.sim.mesh import Sample, run_outlier, run_release
from labsupport.sim.overview import run_overview
from labsupport.sim.packaging import run_machine
from labsupport.sim.serverless import init_s, latency_percentiles, run_serverless
from labsupport.sim.vm import run_vm
from tests.helpers import ROOT

LESSONS = {lesson.slug: lesson for lesson in find_lessons(ROOT / "lessons")}
_LIST_ITEM = re.compile(r"^\* (.*)$")


def try_these_bullets(text: str) -> list[str]:
    """The bullets of every "Try these" list in a lesson's text, each on one line with single spaces."""
    bullets: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "Try these" not in line:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        while j < len(lines) and (_LIST_ITEM.match(lines[j]) or (lines[j].startswith("  ") and bullets)):
            item = _LIST_ITEM.match(lines[j])
            if item:
                bullets.append(item.group(1))
            else:
                bullets[-1] += " " + lines[j].strip()
            j += 1
    return [" ".join(b.split()) for b in bullets]


CASES: dict[tuple[str, str], Callable[[], None]] = {}


def case(lesson: str, key: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(check: Callable[[], None]) -> Callable[[], None]:
        CASES[(lesson, key)] = check
        return check
    return register


def _times(trace, kind: str, subject: str | None = None) -> list[float]:
    return [e.time_s for e in trace.of_kind(kind) if subject is None or e.subject == subject]


# ---- 00 overview: overview_panel passes crash_at_s, instances, alert_error_rate to run_overview ----------------

@case("00_overview", "crash the instance at 40 s")
def _crash_on_a_check() -> None:
    late, exact = run_overview(seed=0), run_overview(seed=0, crash_at_s=40.0)
    assert _times(exact, "health-check-failed")[0] == 40.0  # the check at 40 s already sees the dead instance
    assert _times(exact, "remove-from-pool")[0] - 40.0 == 5.0  # so it leaves the pool 5 s after the crash ...
    assert _times(late, "remove-from-pool")[0] - 42.0 == 8.0  # ... instead of 8 s


@case("00_overview", "only **2 instances**")
def _two_instances() -> None:
    two, three = run_overview(seed=0, instances=2), run_overview(seed=0)
    for trace in (two, three):
        removed, back = _times(trace, "remove-from-pool")[0], _times(trace, "ready", "instance-0")[-1]
        alone = (trace.series["time_s"] >= removed + 1) & (trace.series["time_s"] < back)
        trace_errors = trace.series["errors"][alone]
        if trace is two:  # 30 requests/s on one instance that serves 20: it sheds what it cannot carry
            assert trace.series["serving"][alone].max() == 1 and trace_errors.min() > 0
            assert trace.series["window_p95_latency_s"].max() > 1.0
        else:  # two instances left carry the load: nothing fails once the dead one is out of the pool
            assert trace_errors.max() == 0


@case("00_overview", "raise the alert threshold")
def _threshold_too_high() -> None:
    assert run_overview(seed=0).of_kind("alert-firing")
    silent = [rate for rate in np.arange(0.05, 0.51, 0.01) if not run_overview(seed=0, alert_error_rate=rate)
              .of_kind("alert-firing")]
    assert silent, "some threshold the panel offers must silence the alert"
    quiet = run_overview(seed=0, alert_error_rate=silent[0])
    assert quiet.series["errors"].sum() > 50  # the crash still failed requests: nobody was paged for them


# ---- 01 packaging: packaging_panel passes instances, burn_cores, leak_mb_per_s, shared_server -----------------

@case("01_packaging", "**noisy CPU burn** to 0")
def _leak_only() -> None:
    trace = run_machine(seed=0, burn_cores=0)
    swap = _times(trace, "swapping")[0]
    latency = np.nanmax(trace.series["latency_s"], axis=1)
    before, after = latency[: int(swap)], latency[int(swap):]
    assert before.max() < 0.1 and after.max() > 5 * before.max()


@case("01_packaging", "**leak** to 0")
def _burn_only() -> None:
    trace = run_machine(seed=0, leak_mb_per_s=0, burn_cores=2)
    assert trace.of_kind("cpu-saturated") and not trace.of_kind("oom-kill", "swapping")
    after = trace.series["time_s"] >= 31
    assert (trace.series["failed_share"][after].mean(axis=0) > 0.02).all()  # every instance fails requests


@case("01_packaging", "**instances** to 6")
def _six_quiet_instances() -> None:
    six = run_machine(seed=0, instances=6, burn_cores=0, leak_mb_per_s=0)
    four = run_machine(seed=0, instances=4, burn_cores=0, leak_mb_per_s=0)
    assert not four.of_kind("cpu-saturated") and four.series["failed_share"].max() < 0.01
    assert six.of_kind("cpu-saturated") and six.series["failed_share"].max() > 0.1  # not healthy, with no culprit


@case("01_packaging", "**one shared application server**")
def _shared_server() -> None:
    trace = run_machine(seed=0, shared_server=True)
    down = trace.of_kind("service-down")
    assert {e.subject for e in down} == {f"instance-{i}" for i in range(4)} and len({e.time_s for e in down}) == 1


# ---- 02 vm: vm_panel passes desired_capacity, boot_s, grace_period_s, health checks, crash_at_s to run_vm --------

def _never_served(trace) -> list[str]:
    served = {e.subject for e in trace.of_kind("target-healthy")}
    return [e.subject for e in trace.of_kind("launch") if e.subject not in served]


@case("02_vm", "**boot (s)** to 80")
def _slow_boot_no_grace() -> None:
    slow = run_vm(seed=0, boot_s=80)
    first = [e.subject for e in slow.of_kind("launch")][:3]
    assert all(_times(slow, "target-unhealthy", i)[0] < _times(slow, "target-healthy", i)[0] for i in first)
    assert not _never_served(slow)  # the grace period keeps them until they serve
    staircase = run_vm(seed=0, boot_s=80, grace_period_s=0)
    assert len(_never_served(staircase)) >= 30 and not staircase.of_kind("deploy-complete")


@case("02_vm", "**ASG health check** to `EC2`")
def _ec2_health_check() -> None:
    trace = run_vm(seed=0, health_check_type="EC2")
    crash = trace.first("crash")
    assert crash is not None and _times(trace, "target-unhealthy", crash.subject)  # out of the load balancer ...
    assert not [e for e in trace.of_kind("terminate") if e.data["reason"] == "unhealthy"]  # ... never replaced
    assert not [t for t in _times(trace, "launch") if crash.time_s < t < 1500.0]


@case("02_vm", "**check interval (s)** down to 10")
def _short_interval() -> None:
    usual, short = run_vm(seed=0), run_vm(seed=0, health_check_interval_s=10)

    def detected_after_s(trace) -> float:
        crash = trace.first("crash")
        assert crash is not None
        return _times(trace, "target-unhealthy", crash.subject)[-1] - crash.time_s

    assert detected_after_s(short) < detected_after_s(usual) / 2  # fewer failed requests after the crash
    booting = [e.subject for e in short.of_kind("launch")][:3]
    assert all(_times(short, "target-unhealthy", i)[0] < _times(short, "target-healthy", i)[0] for i in booting)
    assert not _never_served(short)  # the grace period saves them
    assert not [e for e in usual.of_kind("target-unhealthy") if e.subject in booting and e.time_s < 1200]


@case("02_vm", "**desired instances** to 5")
def _five_instances() -> None:
    usual, five = run_vm(seed=0), run_vm(seed=0, desired_capacity=5)
    assert len(five.series["row_label"]) > len(usual.series["row_label"])
    assert [e.subject for e in usual.of_kind("deploy-complete")] == ["v1", "v2"]
    assert [e.subject for e in five.of_kind("deploy-complete")] == ["v1"]  # v2 not everywhere within the hour


# ---- 03 containers: containers_panel passes limits (both off together), quotas, leak, burn, restart policy ------

def _host(limits: bool = True, memory_limit_mb: float = 512, cpu_limit_cores: float = 0.5, **values):
    return run_host(seed=0, memory_limit_mb=memory_limit_mb if limits else None,
                    cpu_limit_cores=cpu_limit_cores if limits else None, **values)


@case("03_containers", "**memory limit (MB)** down to 256")
def _low_memory_limit() -> None:
    usual, low = oom_kills(_host()), oom_kills(_host(memory_limit_mb=256))
    assert low[0][0] < usual[0][0] and len(low) > len(usual)
    below = _host(memory_limit_mb=160)
    assert {name for _, name in oom_kills(below)} == {f"container-{i}" for i in range(4)}
    assert below.series["alive"].sum() == 0  # every container is killed before it ever serves
    waits = [e.data["waited_s"] for e in below.of_kind("restart") if e.subject == "container-1"]
    assert waits[:4] == [0.1, 0.2, 0.4, 0.8]  # Docker's backoff doubles


@case("03_containers", "**cgroup limits on** off")
def _no_limits() -> None:
    assert not oom_kills(_host(limits=False))  # the leak just grows for two minutes
    flood = _host(limits=False, leak_mb_per_s=100)
    assert [e.data["scope"] for e in flood.of_kind("oom-kill")] == ["vm"]  # the VM itself runs out


@case("03_containers", "**restart policy** to `no`")
def _no_restart() -> None:
    trace = _host(restart_policy="no")
    assert len(oom_kills(trace)) == 1 and not trace.of_kind("restart")
    killed = trace.series["time_s"] >= oom_kills(trace)[0][0]
    assert not trace.series["alive"][killed, 0].any()


@case("03_containers", "**containers** to 8")
def _overcommitted_quotas() -> None:
    def neighbours_ms(**values) -> float:
        return float(np.nanmax(_host(**values).series["latency_s"][:, 1:])) * 1000

    # Four quotas of 0.5 core fill the VM's 2 cores exactly: the busy loop changes nothing for the neighbours.
    assert neighbours_ms(burn_cores=2) == neighbours_ms(burn_cores=0)
    assert round(neighbours_ms()) == 71  # the figure the bullet quotes
    # Eight quotas add up to 4 cores: the VM is overcommitted and the neighbours notice the loop, at any burn.
    assert round(neighbours_ms(containers=8, burn_cores=2)) == round(neighbours_ms(containers=8, burn_cores=4)) == 400
    assert neighbours_ms(containers=8, burn_cores=0) == neighbours_ms()  # no loop, no jumps


# ---- 04 kubernetes: kubernetes_panel passes replicas, nodes, the node size, scale_to, kill_node, kill_at_s, ---
# ---- max_surge and max_unavailable -----------------------------------------------------------------------------

@case("04_kubernetes", "kill no node at all")
def _kill_no_node_then_node_0() -> None:
    calm = run_cluster(kill_node=None)
    assert not calm.of_kind("mark-not-ready") and not calm.of_kind("node-down")
    node0 = run_cluster(kill_node=0, kill_at_s=40)
    assert _times(node0, "mark-not-ready") == [90.0]  # 40 s + the 50 s grace period
    evicted = [e.time_s for e in node0.of_kind("delete-pod") if e.data["reason"] == "evicted"]
    assert evicted and set(evicted) == {110.0}  # + the 20 s toleration


@case("04_kubernetes", "`maxSurge` to 0")
def _no_surge() -> None:
    usual, careful = run_cluster(), run_cluster(max_surge=0, max_unavailable=1)

    def done(trace) -> float:
        s = trace.series
        finished = (s["ready_v2"] == s["desired"]) & (s["pods"] == s["desired"]) & (s["time_s"] > 120)
        return float(s["time_s"][finished][0])

    rollout = careful.series["time_s"] >= 120
    assert (careful.series["pods"][rollout] <= careful.series["desired"][rollout]).all()  # never a spare pod
    assert (usual.series["pods"][rollout] > usual.series["desired"][rollout]).any()
    assert done(careful) > done(usual)


@case("04_kubernetes", "**Pending**")
def _pending_after_a_node_death() -> None:
    """Two surviving nodes hold 2 × 2000m / 250m = 16 pods: a seventeenth has nowhere to go."""
    assert run_cluster(replicas=16).series["pending"].max() == 0
    crowded = run_cluster(replicas=17)
    evicted = min(e.time_s for e in crowded.of_kind("delete-pod") if e.data["reason"] == "evicted")
    pending = crowded.series["time_s"][crowded.series["pending"] > 0]
    assert pending.size and pending[0] == evicted


@case("04_kubernetes", "a real cluster's size")
def _a_hundred_nodes() -> None:
    """The panel's large node (4000m, 16 GiB): 16 pods each; 1,000 replicas are 10 a node."""
    big = run_cluster(nodes=100, node_cpu_m=4000, node_memory_mi=16384, replicas=1000, scale_to=None, kill_node=7)
    assert _times(big, "mark-not-ready") == [70.0]
    evicted = [e for e in big.of_kind("delete-pod") if e.data["reason"] == "evicted"]
    assert len(evicted) == 10 and {e.time_s for e in evicted} == {90.0}
    s = big.series
    again = np.flatnonzero(s["placement_time_s"] == 90.0)
    assert s["placement_ties"][again].tolist() == list(range(99, 89, -1))
    assert len(set(s["placement_node"][again].tolist())) == 10 and 7 not in s["placement_node"][again]
    assert s["pending"].max() == 0


# ---- 05 mesh: release_panel passes its six controls to run_release (seed 0); outlier_panel passes its seven ----
# ---- to run_outlier, keeping the failing endpoint (ep-3) inside a smaller pool --------------------------------

def _ended(trace) -> tuple[str, float]:
    end = trace.first("rollback") or trace.first("promote")
    assert end is not None
    return end.kind, end.time_s


def _rollbacks(seeds: range, **values) -> int:
    return sum(run_release(seed=seed, **values).first("rollback") is not None for seed in seeds)


@case("05_mesh", "raise **v2 error rate**")
def _error_rate_luck() -> None:
    # The panel's run: 0.5 % promoted at 240 s after one failed check, 1 % rolled back at 300 s.
    assert _ended(run_release(canary_error_rate=0)) == ("promote", 210.0)
    half = run_release(canary_error_rate=0.005)
    assert _ended(half) == ("promote", 240.0) and sum(not e.data["passed"] for e in half.of_kind("analysis")) == 1
    assert _ended(run_release(canary_error_rate=0.01)) == ("rollback", 300.0)
    # About 75 requests per check at 10 %: 60 end users' and 15 testers'.
    first = run_release(canary_error_rate=0.01).of_kind("analysis")[0]
    assert 60 <= first.data["requests"] <= 90
    # Over twenty seeds: 1 % is a toss of a coin, 1.5 % almost always rolls back.
    seeds = range(20)
    assert _rollbacks(seeds, canary_error_rate=0) == 0
    assert 7 <= _rollbacks(seeds, canary_error_rate=0.01) <= 13
    assert _rollbacks(seeds, canary_error_rate=0.015) >= 18
    # One step of 50 % needs one passing check: 2 % still promoted here (after 3 failed checks), 2.5 % rolled back.
    big = run_release(step_weight=50, canary_error_rate=0.02)
    assert _ended(big)[0] == "promote" and sum(not e.data["passed"] for e in big.of_kind("analysis")) == 3
    assert _ended(run_release(step_weight=50, canary_error_rate=0.025))[0] == "rollback"
    assert _rollbacks(seeds, step_weight=50, canary_error_rate=0.01) < _rollbacks(seeds, canary_error_rate=0.01)


@case("05_mesh", "set **v2 median latency** to 300 ms")
def _slow_v2() -> None:
    trace = run_release(canary_latency_ms=300)
    assert _ended(trace) == ("rollback", 270.0)
    assert trace.series["user_canary_errors"].sum() == 0 and trace.series["tester_canary_errors"].sum() == 0
    failed = [e for e in trace.of_kind("analysis") if not e.data["passed"]]
    assert len(failed) == 5 and all("P99" in e.data["why"] and 500 < e.data["p99_ms"] < 750 for e in failed)


@case("05_mesh", "turn **testers by header** off and on")
def _testers_first() -> None:
    def first_s(trace, name: str) -> float:
        return float(trace.series["time_s"][np.flatnonzero(trace.series[name])[0]])

    on, off = run_release(header_routing=True), run_release(header_routing=False)
    assert _times(on, "detect") == [30.0] and _times(on, "route-testers") == [30.0]
    assert first_s(on, "tester_canary") == 30.0 and first_s(on, "user_canary") == 60.0
    assert not off.of_kind("route-testers") and first_s(off, "tester_canary") >= 60.0  # the weight, like everyone
    drawn = np.flatnonzero((on.series["sample"] == Sample.TESTER_CANARY).any(axis=1))
    assert on.series["time_s"][drawn[0]] >= 30.0  # the first blue diamond: never before the rule, maybe later


@case("05_mesh", "set **interval** to 2.5 s")
def _short_interval_release() -> None:
    usual, short = run_release(), run_release(interval_s=2.5)
    assert [e.kind for e in short.events] == [e.kind for e in usual.events]
    assert all(abs(a.time_s / 12 - b.time_s) < 1e-9 for a, b in zip(usual.events, short.events, strict=True))
    assert _ended(short) == ("promote", 17.5)
    assert max(e.data["requests"] for e in short.of_kind("analysis")) < 40  # a check judges a few requests


@case("05_mesh", "set **step weight** to 100")
def _one_step() -> None:
    with pytest.raises(ParameterError, match=r"step_weight \(100\) must be at most max_weight \(50\)"):
        run_release(step_weight=100)
    one = run_release(step_weight=50)
    assert [(e.time_s, e.data["canary"]) for e in one.of_kind("set-weight")] == [(60.0, 50), (120.0, 0)]
    assert _ended(one) == ("promote", 90.0) and len(one.of_kind("analysis")) == 1


def _pool(**values):
    return run_outlier(seed=0, bad_endpoint=min(3, int(values.get("endpoints", 10)) - 1), **values)


@case("05_mesh", "set **endpoints** to 9")
def _nine_endpoints() -> None:
    nine = _pool(endpoints=9)
    assert not nine.of_kind("eject") and nine.of_kind("eject-refused")[0].data["would_eject_percent"] == 11.1
    assert int(nine.series["user_errors"].sum()) == 379 and int(_pool().series["user_errors"].sum()) == 10
    assert _pool(endpoints=9, max_ejection_percent=20).of_kind("eject")


@case("05_mesh", "tick **always eject one host**")
def _always_eject_one() -> None:
    assert not _pool(endpoints=5).of_kind("eject")
    trace = _pool(endpoints=5, always_eject_one_host=True)
    assert trace.of_kind("eject") and int(trace.series["user_errors"].sum()) == 10


@case("05_mesh", "set **failure** to `connect-failure`")
def _retried_failures() -> None:
    def moments(trace) -> list[tuple[str, float]]:
        return [(e.kind, round(e.time_s, 1)) for e in trace.of_kind("eject", "return")]

    refused = _pool(failure="connect-failure")
    assert moments(refused) == moments(_pool()) and int(refused.series["user_errors"].sum()) == 0
    assert int(refused.series["retried"].sum()) > 0
    assert int(_pool(failure="503").series["user_errors"].sum()) == 10
    assert int(_pool(failure="503", retry_503=True).series["user_errors"].sum()) == 0


@case("05_mesh", "set **baseEjectionTime** to 120 s")
def _long_ejection() -> None:
    trace = _pool(base_ejection_s=120)
    assert len(trace.of_kind("eject")) == 1 and _times(trace, "return") == [150.0]
    assert int(trace.series["user_errors"].sum()) == 5


# ---- 06 serverless: serverless_panel passes its six controls to run_serverless --------------------------------

def _burst_starts(trace) -> list[float]:
    p = trace.params
    return [p["burst_first_s"] + k * p["burst_every_s"]
            for k in range(int((p["duration_s"] - p["burst_first_s"]) // p["burst_every_s"]) + 1)]


def _cold_in(trace, start_s: float, end_s: float) -> int:
    s = trace.series
    window = (s["request_time_s"] >= start_s) & (s["request_time_s"] < end_s)
    return int(s["request_cold"][window].sum())


@case("06_serverless", "**burst size** to 200")
def _big_burst() -> None:
    usual, big = run_serverless(seed=0), run_serverless(seed=0, burst_size=200)
    assert big.series["request_cold"].sum() > 2 * usual.series["request_cold"].sum()
    assert latency_percentiles(big)["p99"] > latency_percentiles(usual)["p99"]
    assert big.series["instances"].max() > 2 * usual.series["instances"].max()


@case("06_serverless", "**concurrency limit** to 10")
def _throttled() -> None:
    assert run_serverless(seed=0).series["request_throttled"].sum() == 0
    trace = run_serverless(seed=0, concurrency_limit=10)
    s = trace.series
    assert s["request_throttled"].sum() > 0 and s["throttled"].sum() > 0
    refused = s["request_time_s"][s["request_throttled"]]
    assert all(any(b <= t < b + 2 for b in _burst_starts(trace)) for t in refused)  # only during the bursts
    assert s["instances"].max() <= 10


@case("06_serverless", "**provisioned** to 20")
def _provisioned() -> None:
    trace = run_serverless(seed=0, provisioned=20)
    assert _cold_in(trace, 60, 62) == 0 and _cold_in(trace, 760, 762) == 0
    with pytest.raises(ParameterError, match="provisioned must be at most 10"):
        run_serverless(seed=0, provisioned=15, concurrency_limit=10)


@case("06_serverless", "**idle expiry (s)** to 30")
def _idle_expiry() -> None:
    def steady_cold(trace) -> int:
        """Cold starts away from the first requests and from every burst: the steady traffic's own."""
        s = trace.series
        quiet = s["request_time_s"] > 5
        for b in _burst_starts(trace):
            quiet &= (s["request_time_s"] < b) | (s["request_time_s"] >= b + 5)
        return int(s["request_cold"][quiet].sum())

    assert steady_cold(run_serverless(seed=0, idle_expiry_s=30)) >= 5 > 1 >= steady_cold(run_serverless(seed=0))
    assert _cold_in(run_serverless(seed=0), 760, 762) > 0  # the default 600 s: gone by the second burst
    assert _cold_in(run_serverless(seed=0, idle_expiry_s=900), 760, 762) == 0


@case("06_serverless", "**memory (MB)** to 128")
def _small_memory() -> None:
    trace = run_serverless(seed=0, memory_mb=128)
    s = trace.series
    cold = s["request_latency_s"][s["request_cold"]]
    assert 0.9 <= init_s(128) <= 1.1 and cold.size and cold.min() >= init_s(128)


# ---- the tests --------------------------------------------------------------------------------------------------

def test_every_bullet_has_exactly_one_case() -> None:
    problems = []
    matched = set()
    for slug, lesson in LESSONS.items():
        for bullet in try_these_bullets(lesson.path.read_text(encoding="utf-8")):
            keys = [key for (lesson_slug, key) in CASES if lesson_slug == slug and key in bullet]
            matched.update((slug, key) for key in keys)
            if len(keys) != 1:
                problems.append(f"{slug}: {len(keys)} cases for the bullet {bullet[:70]!r}")
    problems += [f"{slug}: no bullet holds {key!r} any more" for slug, key in CASES if (slug, key) not in matched]
    assert not problems, "\n".join(problems)


def test_the_bullet_reader_reads_lists() -> None:
    text = "Try these, and explain:\n\n* one **a** to 1;\n  more of it\n* two\n\n* not in the list\n"
    assert try_these_bullets(text) == ["one **a** to 1; more of it", "two"]


@pytest.mark.parametrize(("lesson", "key"), list(CASES), ids=[f"{lesson}: {key}" for lesson, key in CASES])
def test_bullet_is_true_of_the_model(lesson: str, key: str) -> None:
    CASES[(lesson, key)]()
