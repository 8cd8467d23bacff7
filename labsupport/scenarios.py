"""The settings that lessons, their exercises and the tests share, in one place: plain data, no UI, no grading.

A lesson prints or runs these (the instances exercise 01.placement asks you to place, the machine whose OOM
kills exercise 01.oom_order asks you to predict, ...); the grader's exercises check answers against the models
run on the same values; tests and hidden tests import them from here too. The grader's exercise modules hold
only the checks.
"""

from __future__ import annotations

from labsupport.artifacts.dockerfile import render_dockerfile
from labsupport.sim.choosing import Workload
from labsupport.sim.containers import HostParams
from labsupport.sim.packaging import MachineParams

__all__ = ["DEADLINE_S", "LEAK_SCENARIO", "LIMIT_SCENARIO", "MACHINE_MB", "NAIVE_DOCKERFILE", "OOM_SCENARIO", "PLACEMENT_MB",
           "SERVICES", "SOURCE_FILE"]

# ---- lesson 01 ------------------------------------------------------------------------------------------------

#: Exercise 01.placement: the instances to place (name -> resident memory in MB) and the memory of each machine.
PLACEMENT_MB = {
    "restaurant": 4608, "order": 1536, "kitchen": 1536, "delivery": 2560, "accounting": 2560,
    "consumer": 2048, "notification": 2560, "payment": 4096, "review": 2560,
}
MACHINE_MB = 8192

#: Exercise 01.oom_order: one machine (6 GB of RAM, 1 GB of swap) and four instances; instance-1 leaks 60 MB
#: every second from 10 s on.
OOM_SCENARIO = MachineParams(instances=4, duration_s=180.0, memory_mb=6144.0, swap_mb=1024.0,
                             instance_memory_mb=(1200.0, 900.0, 2600.0, 800.0), noisy_instance=1,
                             noise_at_s=10.0, burn_cores=0.0, leak_mb_per_s=60.0)

# ---- lesson 03 ------------------------------------------------------------------------------------------------

#: Exercise 03.better_dockerfile starts from this one: correct, but it copies the whole context before installing.
NAIVE_DOCKERFILE = render_dockerfile(order="source-first")
#: The file a typical commit changes.
SOURCE_FILE = "labsupport/service/_app.py"

#: Exercise 03.memory_limit_mb: seven copies of a service on a VM with 4 GiB; container-0 starts leaking 6 MB/s
#: at 10 s.
LIMIT_SCENARIO = HostParams(containers=7, vm_cpu_cores=2.0, vm_memory_mb=4096.0, os_memory_mb=768.0,
                            cpu_limit_cores=0.25, memory_limit_mb=512.0, base_memory_mb=300.0, gc_swing_mb=120.0,
                            gc_period_s=15.0, leaky_container=0, leak_at_s=10.0, leak_mb_per_s=6.0, burn_cores=0.0,
                            restart_policy="always", duration_s=180.0)
#: The leaking container must be stopped by then.
DEADLINE_S = 35.0

#: One container of the Restaurant Service as lesson 03's "Run it for real" runs it: healthy at about 24 MB (the
#: service, ``ps`` and the client, as measured in a real container: 21 MB), leaking from its start, no restart.
LEAK_SCENARIO = HostParams(containers=1, vm_cpu_cores=2.0, vm_memory_mb=8192.0, os_memory_mb=768.0,
                           cpu_limit_cores=0.5, memory_limit_mb=64.0, base_memory_mb=24.0, gc_swing_mb=0.0,
                           leaky_container=0, leak_at_s=0.0, leak_mb_per_s=10.0, burn_cores=0.0,
                           request_rate_per_s=10.0, restart_policy="no", start_s=0.5, duration_s=10.0, step_s=0.1)

# ---- lesson 07 ------------------------------------------------------------------------------------------------

#: Exercise 07.pick: the three services the lesson describes, as workloads.
SERVICES: dict[str, Workload] = {
    "order-history": Workload(rate_per_s=0.5, peak_to_mean=20, memory_mb=256, services=1,
                              isolation="resource-limits"),
    "kitchen-consumer": Workload(rate_per_s=5, peak_to_mean=2, memory_mb=1024, services=1,
                                 isolation="resource-limits", long_running=True),
    "card-vault": Workload(rate_per_s=2, peak_to_mean=3, memory_mb=2048, services=1, isolation="own-kernel",
                           long_running=True),
}
