"""The OCI runtime spec, what this machine supports, and real containers run with runc.

Tests that run a real container skip with the reason where this machine cannot run one, except under
``CI=true``, where that is a failure: CI installs runc (``.ci/run``).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from labsupport.artifacts import _reaper, oci
from labsupport.artifacts.oci import (
    ContainerError,
    ContainerRun,
    cgroup_files,
    container_support,
    docker_resources,
    judge_support,
    leftovers,
    model_vs_measured,
    parse_docker_memory,
    render_runtime_spec,
    run_in_container,
    run_with_restart_policy,
    should_restart,
)
from labsupport.facts import HEALTH_PATH, SERVICE_PORT
from labsupport.scenarios import LEAK_SCENARIO
from labsupport.service import is_running
from labsupport.sim.containers import HostParams
from tests.helpers import skip_or_fail

SUPPORT = container_support()
PYTHON = "/usr/bin/python3"


@pytest.fixture()
def support() -> oci.ContainerSupport:
    if not SUPPORT.ok:
        skip_or_fail(SUPPORT.reason, "real containers")
    yield SUPPORT
    assert leftovers() == [], "a run left something behind"


# ---- the spec -------------------------------------------------------------------------------------------------

def test_docker_run_flags_become_the_spec_and_cgroup_files() -> None:
    resources = docker_resources("256m", 0.5)
    assert resources == {"memory": {"limit": 268435456, "swap": 268435456}, "cpu": {"quota": 50000, "period": 100000}}
    assert cgroup_files(resources, 1) == {"memory.limit_in_bytes": "268435456", "cpu.cfs_quota_us": "50000",
                                          "cpu.cfs_period_us": "100000"}
    assert cgroup_files(resources, 2) == {"memory.max": "268435456", "cpu.max": "50000 100000"}
    assert docker_resources("1g", 1.5)["cpu"]["quota"] == 150000
    assert [parse_docker_memory(v) for v in ("512k", "6m", "2G", 1000)] == [524288, 6291456, 2147483648, 1000]
    for bad in ("lots", "-3m", "12x"):
        with pytest.raises(ContainerError, match="write a number and a unit"):
            parse_docker_memory(bad)
    with pytest.raises(ContainerError, match="--cpus must be"):
        docker_resources("256m", 0)
    with pytest.raises(ContainerError, match="must be 1 or 2"):
        cgroup_files(resources, 3)


def test_the_spec_holds_the_models_limits_and_the_lockdown() -> None:
    spec = render_runtime_spec(["python3", "-V"], binds=("/usr", "/etc"), cgroups_path="/labsupport-x")
    # the runtime-spec's required fields (config.md: ociVersion; root.path; process.cwd when process is set)
    assert spec["ociVersion"] == "1.0.2" and spec["root"] == {"path": "rootfs", "readonly": True}
    assert spec["process"]["cwd"] == "/" and spec["process"]["args"] == ["python3", "-V"]
    # lesson 03's model by default: HostParams' 512 MB and half a CPU, no swap beyond the limit
    model = HostParams()
    assert spec["linux"]["resources"]["memory"] == {"limit": int(model.memory_limit_mb * 2**20)} | {
        "swap": int(model.memory_limit_mb * 2**20)}
    assert spec["linux"]["resources"]["cpu"] == {"quota": 50000, "period": 100000}
    assert [n["type"] for n in spec["linux"]["namespaces"]] == ["pid", "uts", "ipc", "mount", "network"]
    assert spec["process"]["noNewPrivileges"] is True
    assert all(v == [] for v in spec["process"]["capabilities"].values())
    assert spec["process"]["user"] == {"uid": 65534, "gid": 65534}
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert mounts["/tmp"]["type"] == "tmpfs" and "size=64m" in mounts["/tmp"]["options"]
    assert mounts["/usr"]["options"][:2] == ["rbind", "ro"] and mounts["/etc"]["source"] == "/etc"
    assert spec["linux"]["cgroupsPath"] == "/labsupport-x" and spec["hostname"] == "restaurant"


def test_spec_variants_host_network_rootless_and_no_limits() -> None:
    host = render_runtime_spec(["true"], network="host", memory_mb=None, cpus=None, binds=())
    assert "network" not in [n["type"] for n in host["linux"]["namespaces"]]
    assert "memory" not in host["linux"]["resources"] and "cpu" not in host["linux"]["resources"]
    rootless = render_runtime_spec(["true"], rootless_uid=1000, binds=())
    assert rootless["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 1000, "size": 1}]
    assert rootless["linux"]["namespaces"][-1] == {"type": "user"} and rootless["process"]["user"]["uid"] == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"command": []}, "non-empty list of strings"),
    ({"command": "python3 -V"}, "non-empty list of strings"),
    ({"command": ["python3", ""]}, "non-empty string"),
    ({"hostname": "Not_A_Host"}, "hostname must be"),
    ({"network": "bridge"}, "network must be 'none'"),
    ({"memory_mb": -5}, "positive number of MB"),
])
def test_bad_spec_input_says_what_would_be_valid(kwargs: dict[str, object], message: str) -> None:
    args = {"command": ["true"], **kwargs}
    with pytest.raises(ContainerError, match=message):
        render_runtime_spec(args.pop("command"), binds=(), **args)  # type: ignore[arg-type]


def test_host_binds_copy_links_and_bind_folders(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    (tmp_path / "lib").symlink_to("usr/lib")
    binds, links = oci.host_binds([str(tmp_path / "usr"), str(tmp_path / "lib"), str(tmp_path / "none")])
    assert binds == (str(tmp_path / "usr"),) and links == {str(tmp_path / "lib"): "usr/lib"}


# ---- where it runs and where it refuses -----------------------------------------------------------------------

@pytest.mark.parametrize(("facts", "words"), [
    ({"platform": "darwin", "runtime": None}, "macOS has no Linux kernel"),
    ({"platform": "win32", "runtime": None}, "Windows has no Linux kernel"),
    ({"platform": "linux", "runtime": None}, "apt-get install runc"),
    ({"platform": "linux", "runtime": "/usr/bin/runc", "cgroup_version": None}, "no cgroup filesystem"),
    ({"platform": "linux", "runtime": "/usr/bin/runc", "cgroup_version": 2, "controllers": ("cpu", "pids")},
     "no memory controller"),
    ({"platform": "linux", "runtime": "/usr/bin/runc", "cgroup_version": 2, "controllers": ("memory",),
      "root": False, "user_namespaces": False}, "user namespaces"),
    ({"platform": "linux", "runtime": "/usr/bin/runc", "cgroup_version": 1, "controllers": ("memory",),
      "root": False, "user_namespaces": True}, "only under cgroup v2"),
    ({"platform": "linux", "runtime": "/usr/bin/crun", "cgroup_version": 1, "controllers": ("memory",),
      "hybrid": True}, "install runc"),
])
def test_refusals_name_the_reason(facts: dict[str, object], words: str) -> None:
    verdict = judge_support(**facts)  # type: ignore[arg-type]
    assert not verdict.ok and words in verdict.reason
    assert str(verdict).startswith("containers: not here.")


def test_supported_machines_root_and_rootless_v2() -> None:
    root = judge_support(platform="linux", runtime="/usr/bin/runc", runtime_version="1.1.5", spec_version="1.0.2",
                         cgroup_version=1, controllers=("cpu", "memory"), hybrid=True)
    rootless = judge_support(platform="linux", runtime="/usr/bin/crun", runtime_version="1.8", cgroup_version=2,
                             controllers=("cpu", "memory"), root=False, user_namespaces=True)
    assert root.ok and rootless.ok and rootless.rootless and not root.rootless
    assert str(root) == ("containers: runc 1.1.5 (OCI runtime-spec 1.0.2), as root, cgroup v1 (cpu, memory)")


def test_a_missing_or_refusing_runtime_raises_a_clear_error(tmp_path: Path) -> None:
    assert not container_support(str(tmp_path / "no-such-runtime")).ok
    fake = tmp_path / "runc"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'runc version 9.9'; echo 'spec: 1.0.2'; exit 0; fi\n"
                    "if [ \"$1\" = run ]; then echo 'time=\"x\" level=error msg=\"runc run failed: "
                    "no memory for you\"' >&2; exit 1; fi\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    refusing = replace(SUPPORT, ok=True, reason="", runtime=str(fake), cgroup_version=SUPPORT.cgroup_version or 1)
    if not SUPPORT.ok:
        pytest.skip(SUPPORT.reason)
    # what an earlier, killed process left (its kernel and watchdog died) is not this run's: the real runtime's
    # next run would sweep it up, the refusing one below cannot, so sweep it first
    oci.sweep_orphans(str(SUPPORT.runtime), SUPPORT.cgroup_version or 1)
    with pytest.raises(ContainerError, match="the runtime \\(runc\\) refused to start the container: runc run "
                                             "failed: no memory for you"):
        run_in_container([PYTHON, "-c", "pass"], memory_mb=64, support=refusing)
    assert leftovers() == []


def test_restart_policies_are_dockers() -> None:
    def run(code: int | None) -> ContainerRun:
        return ContainerRun(("x",), "c", code, code == 137, False, None, None, "", "", None, None, 0.5)

    assert [should_restart(p, run(0)) for p in ("no", "on-failure", "always", "unless-stopped")] == [
        False, False, True, True]
    assert [should_restart(p, run(137)) for p in ("no", "on-failure", "always")] == [False, True, True]
    with pytest.raises(ContainerError, match="one of no, on-failure, always, unless-stopped"):
        should_restart("sometimes", run(0))
    codes = iter([137, 137, 137, 0])
    restarts = run_with_restart_policy(lambda: run(next(codes)), policy="on-failure", max_starts=10)
    # the model's backoff: 100 ms, doubling, for runs shorter than 10 s; the clean exit ends it
    assert restarts.waits_s == (0.1, 0.2, 0.4) and [r.exit_code for r in restarts.runs] == [137, 137, 137, 0]
    with pytest.raises(ContainerError, match="max_starts"):
        run_with_restart_policy(lambda: run(0), max_starts=0)


def test_model_column_for_the_real_runs_settings() -> None:
    rows = model_vs_measured(replace(LEAK_SCENARIO, restart_policy="always", duration_s=20.0), None)
    assert rows[1] == ("leak starts -> OOM kill", "4.0 s", "not measured here")  # (64 - 24) MB at 10 MB/s
    assert rows[3][1] == "137" and rows[4][1] == "100, 200 ms"


# ---- the watchdog, without a runtime ---------------------------------------------------------------------------

def _watchdogs(owner_pid: int) -> list[int]:
    """The pids of the running watchdogs (``labsupport.artifacts._reaper``) of ``owner_pid``'s containers."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        module = b"labsupport.artifacts._reaper"
        owner = args[args.index(module) + 1] if module in args[:-1] else b""
        if owner == str(owner_pid).encode() and is_running(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_the_watchdog_waits_while_its_owner_lives_and_cleans_up_once_it_is_gone() -> None:
    cleanups: list[str] = []
    checks = iter([False, False, False, True])  # the owner cleans up by itself after a while
    asked: list[float] = []
    alive = _reaper.watch(lambda wait_s: asked.append(wait_s) is not None, lambda: next(checks),
                          lambda: cleanups.append("cleanup"), poll_s=0.01)
    assert alive is False and cleanups == [] and asked == [0.01, 0.01, 0.01]  # owner alive: nothing done
    answers = iter([False, False, True])
    gone = _reaper.watch(lambda wait_s: next(answers), lambda: False, lambda: cleanups.append("cleanup"), poll_s=0.01)
    assert gone is True and cleanups == ["cleanup"]  # owner gone: cleaned up once
    states = iter([False, True])  # the owner cleaned up, then died before it stopped its watchdog
    assert _reaper.watch(lambda wait_s: True, lambda: next(states), lambda: cleanups.append("again")) is True
    assert cleanups == ["cleanup"]


def test_the_watchdog_sees_a_real_owner_end() -> None:
    owner = subprocess.Popen(["sleep", "30"])
    ended = _reaper.owner_ended(owner.pid)
    assert ended(0.05) is False
    owner.kill()  # not reaped yet: a zombie has ended too
    assert any(ended(0.2) for _ in range(25))
    owner.wait()
    assert _reaper.owner_ended(owner.pid)(0.0) is True  # a pid that is gone


def test_the_watchdog_refuses_another_owners_container(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(oci, "_cleanup", lambda *args: pytest.fail("nothing may be cleaned up"))
    bundle = f"{tempfile.gettempdir()}/{oci._PREFIX}bundle-123-x"
    assert _reaper.main(["123", "runc", f"{oci._PREFIX}456-1-abcdef", bundle, "/x", "1"]) == 2
    assert "are not containers of process 123" in capsys.readouterr().err
    assert _reaper.main(["123", "runc", f"{oci._PREFIX}123-1-abcdef"]) == 2
    assert "usage: python -m labsupport.artifacts._reaper OWNER_PID" in capsys.readouterr().err


# ---- real containers ------------------------------------------------------------------------------------------

def test_bad_run_input_is_refused_before_anything_starts(support: oci.ContainerSupport) -> None:
    with pytest.raises(ContainerError, match="below what Python needs to start.*at least 16 MB"):
        run_in_container([PYTHON, "-c", "pass"], memory_mb=4, support=support)
    with pytest.raises(ContainerError, match="has no program 'pythn3'.*for Python write"):
        run_in_container(["pythn3", "-c", "pass"], support=support)
    with pytest.raises(ContainerError, match="timeout_s must be"):
        run_in_container([PYTHON, "-c", "pass"], timeout_s=0, support=support)
    with pytest.raises(ContainerError, match="file names go straight into /app"):
        run_in_container([PYTHON, "-c", "pass"], files={"../x": b""}, support=support)


def test_process_one_with_its_own_hostname_sees_only_itself(support: oci.ContainerSupport) -> None:
    code = ("import os, socket; print(os.getpid(), socket.gethostname(), os.getuid(), "
            "len([p for p in os.listdir('/proc') if p.isdigit()]), socket.if_nameindex())")
    run = run_in_container([PYTHON, "-c", code], memory_mb=64, cpus=0.5, hostname="kitchen", support=support)
    assert run.ok and run.exit_code == 0 and not run.oom_killed
    pid, host, uid, processes, interfaces = run.stdout.split(" ", 4)
    assert (pid, host, uid, processes) == ("1", "kitchen", "65534", "1")
    assert "'lo'" in interfaces and interfaces.count("(") == 1  # a network namespace of its own: loopback only
    limits = cgroup_files(docker_resources("64m", 0.5), support.cgroup_version or 1)
    assert run.cgroup == limits  # the kernel holds exactly the limits the spec asked for
    assert run.ready_s is not None and 0 < run.ready_s < run.wall_s
    assert run.peak_memory_mb is not None and 0 < run.peak_memory_mb < 64


def test_the_root_is_read_only_and_tmp_is_private(support: oci.ContainerSupport) -> None:
    marker = f"labsupport-test-{os.getpid()}"
    code = (f"open('/tmp/{marker}', 'w').write('x'); import os\n"
            "try:\n    open('/usr/x', 'w')\nexcept OSError as e:\n    print('usr', e.errno)\n"
            "try:\n    open('/app/x', 'w')\nexcept OSError as e:\n    print('app', e.errno)\n")
    run = run_in_container([PYTHON, "-c", code], memory_mb=64, support=support)
    assert run.stdout.split() == ["usr", "30", "app", "30"], run.stderr  # EROFS
    assert not (Path(tempfile.gettempdir()) / marker).exists()


def test_a_leak_is_oom_killed_at_the_limit(support: oci.ContainerSupport) -> None:
    leak = "import time\nkept = []\nprint('leaking', flush=True)\nwhile True:\n    kept.append(bytearray(1 << 20))\n"
    run = run_in_container([PYTHON, "-c", leak], memory_mb=48, support=support, timeout_s=30)
    assert run.oom_killed and run.exit_code == 137 and not run.timed_out and not run.ok
    assert run.peak_memory_mb == pytest.approx(48, abs=0.5) and run.memory_limit_mb == 48
    assert run.stdout == "leaking\n" and "OOM-killed by the kernel at its 48 MB limit" in str(run)


def test_a_time_limit_stops_it_and_nothing_is_left(support: oci.ContainerSupport) -> None:
    run = run_in_container([PYTHON, "-c", "import time; print('up', flush=True); time.sleep(60)"], memory_mb=32,
                           timeout_s=1.5, support=support)
    assert run.timed_out and not run.oom_killed and run.stdout == "up\n" and run.exit_code != 0
    listed = subprocess.run([support.runtime or "runc", "list", "-q"], capture_output=True, text=True).stdout
    assert run.container_id not in listed.split()
    assert not any(run.container_id in line for line in Path("/proc/self/mountinfo").read_text().splitlines())
    assert _watchdogs(os.getpid()) == []  # its watchdog ended with it


def test_the_command_failing_is_reported_not_raised(support: oci.ContainerSupport) -> None:
    run = run_in_container([PYTHON, "-c", "import sys; sys.exit('broken on purpose')"], memory_mb=32, support=support)
    assert run.exit_code == 1 and not run.oom_killed and "broken on purpose" in run.stderr


def test_the_restaurant_service_answers_on_loopback_inside(support: oci.ContainerSupport, tmp_path: Path) -> None:
    run = oci.run_service(tmp_path, memory_mb=64, support=support)
    hostname, ps, client = run.execs
    assert hostname.stdout == "restaurant\n"
    rows = [line.split(None, 3) for line in ps.stdout.splitlines()[1:]]
    assert rows[0][0] == "1" and rows[0][1] == "nobody" and "restaurant-service.pyz" in rows[0][3]
    assert len(rows) == 2 and rows[1][3].startswith("ps ")  # the service and ps itself: nothing of the host
    assert client.stdout.splitlines() == ['GET /health -> 200 {"status": "ok", "version": "v1"}',
                                          'GET /restaurants -> 200 {"restaurants": []}']
    assert run.stdout.startswith("READY port=8080 pid=1 ") and run.exit_code == 0  # docker stop: SIGTERM, exit 0


def test_the_leaking_service_is_killed_and_restarted(support: oci.ContainerSupport, tmp_path: Path) -> None:
    files = oci.service_files(tmp_path)
    restarts = run_with_restart_policy(
        lambda: oci.run_in_container(oci.service_command(leak_mb_per_s=20), memory_mb=48, files=files, ready="READY",
                                     execs=[[PYTHON, "/app/client.py", str(SERVICE_PORT), HEALTH_PATH, "10", "20"]], support=support),
        policy="always", max_starts=2)
    assert [r.oom_killed for r in restarts.runs] == [True, True] and restarts.waits_s == (0.1,)
    assert all(r.exit_code == 137 and r.peak_memory_mb == pytest.approx(48, abs=0.5) for r in restarts.runs)


_SLEEPER = ("from labsupport.artifacts.oci import run_in_container\n"
            "run_in_container(['/usr/bin/python3', '-c', 'import time; print(1, flush=True); time.sleep(120)'], "
            "memory_mb=32, timeout_s=120)\n")


def _child_with_a_container(runtime: str) -> subprocess.Popen[bytes]:
    """A Python process (a kernel, say) whose container runs a two-minute sleep; returned once it runs."""
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", _SLEEPER], start_new_session=True)  # a group, as a kernel is
    mine = f"{oci._PREFIX}{child.pid}-"
    for _ in range(300):  # wait until the child's container runs (at most 30 s)
        listed = subprocess.run([runtime, "list", "-q"], capture_output=True, text=True).stdout.split()
        if any(name.startswith(mine) for name in listed) and _watchdogs(child.pid):
            return child
        time.sleep(0.1)
    child.kill()
    pytest.fail("the child's container never started")


def _traces_of(pid: int) -> list[str]:
    """What :func:`leftovers` lists of the containers of process ``pid``: containers, cgroups, mounts, bundles."""
    return [item for item in leftovers() if f"{oci._PREFIX}{pid}-" in item or f"{oci._PREFIX}bundle-{pid}-" in item]


def test_a_killed_kernels_container_is_removed_by_its_watchdog(support: oci.ContainerSupport) -> None:
    import signal
    import time

    child = _child_with_a_container(support.runtime or "runc")
    time.sleep(1.0)  # several of the watchdog's polls: while its owner lives, it touches nothing
    found = _traces_of(child.pid)
    assert any(item.startswith("container ") for item in found) and any(item.startswith("cgroup ") for item in found)
    assert any(item.startswith("folder ") for item in found)  # the bundle
    os.killpg(child.pid, signal.SIGKILL)  # as Jupyter kills a kernel's process group: no finally runs
    child.wait()
    for _ in range(100):  # within a few seconds (at most 10 s)
        if not _traces_of(child.pid) and not _watchdogs(child.pid):
            break
        time.sleep(0.1)
    assert _traces_of(child.pid) == [] and _watchdogs(child.pid) == []


def test_a_run_whose_kernel_and_watchdog_died_is_swept_up_by_the_next(support: oci.ContainerSupport) -> None:
    import signal
    import time

    runtime = support.runtime or "runc"
    child = _child_with_a_container(runtime)
    for pid in [*_watchdogs(child.pid), child.pid]:  # the watchdog killed first (the OOM killer took both, say)
        os.kill(pid, signal.SIGKILL)
    child.wait()
    mine = f"{oci._PREFIX}{child.pid}-"
    assert any(mine in item for item in leftovers())
    removed = oci.sweep_orphans(runtime, support.cgroup_version or 1)
    assert any(name.startswith(mine) for name in removed) and any("bundle" in name for name in removed)
    for _ in range(50):  # the orphaned runc process exits once its container is gone
        if not any(mine in item for item in leftovers()):
            break
        time.sleep(0.1)


def test_every_field_the_spec_writes_is_one_runc_knows(support: oci.ContainerSupport, tmp_path: Path) -> None:
    """The names of the course's spec against the templates ``runc spec`` writes (root and rootless)."""
    if Path(support.runtime or "").name != "runc":
        pytest.skip("the templates come from runc")
    known: dict[str, set[str]] = {"": set(), "process": set(), "linux": set(), "mount": set(), "resources": set()}
    for flags in ([], ["--rootless"]):
        folder = tmp_path / ("rootless" if flags else "root")
        folder.mkdir()
        subprocess.run([support.runtime or "runc", "spec", *flags, "--bundle", str(folder)], check=True)
        template = json.loads((folder / "config.json").read_text())
        known[""] |= set(template)
        known["process"] |= set(template["process"])
        known["linux"] |= set(template["linux"])
        known["mount"] |= {key for mount in template["mounts"] for key in mount}
        known["resources"] |= set(template["linux"].get("resources", {}))
    ours = render_runtime_spec(["true"], rootless_uid=1000, cgroups_path="/labsupport-x")
    assert set(ours) <= known[""]
    assert set(ours["process"]) <= known["process"]
    assert set(ours["linux"]) <= known["linux"] | {"cgroupsPath"}  # cgroupsPath: config-linux.md, not in templates
    assert {key for mount in ours["mounts"] for key in mount} <= known["mount"]
    assert set(ours["linux"]["resources"]) - known["resources"] <= {"memory", "cpu", "pids"}  # config-linux.md


def test_a_rootless_container_goes_under_the_delegated_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = tmp_path / "user.slice" / "user-1000.slice" / "user@1000.service"
    own = service / "app.slice" / "kernel.scope"
    own.mkdir(parents=True)
    for folder, enabled in ((tmp_path, "cpu memory pids"), (tmp_path / "user.slice", "memory"),
                            (service.parent, "memory"), (service, "cpu memory pids"), (service / "app.slice", ""),
                            (own, "")):
        (folder / "cgroup.subtree_control").write_text(enabled + "\n")
    monkeypatch.setattr(oci, "_CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(oci, "_own_cgroup_v2", lambda: own)
    # the nearest writable ancestor handing memory down; never the process's own cgroup (it holds processes)
    assert oci._delegated_parent() == service
    (service / "cgroup.subtree_control").write_text("cpu pids\n")
    assert oci._delegated_parent() == service.parent
    for folder in (tmp_path, tmp_path / "user.slice", service.parent):
        (folder / "cgroup.subtree_control").write_text("cpu\n")
    assert oci._delegated_parent() is None
