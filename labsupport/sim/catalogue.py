"""The EC2 instance price catalogue: the one place the course's instance types and their prices live.

Lesson 02's VMs, lesson 03's container hosts, lesson 06's always-on comparison and lesson 07's capstone all
price machines from here. Sizes are from the AWS EC2 instance types pages; prices are the Linux on-demand
prices in us-east-1 from the AWS EC2 On-Demand pricing page (see :data:`PRICES_AS_OF`).
"""

from __future__ import annotations

from dataclasses import dataclass

from labsupport.sim._params import ParameterError

__all__ = ["INSTANCE_TYPES", "PRICES_AS_OF", "InstanceType", "instance_type"]


@dataclass(frozen=True, slots=True)
class InstanceType:
    """An EC2 instance type: its size and its Linux on-demand price in us-east-1."""

    name: str
    vcpu: int
    memory_gib: float
    usd_per_hour: float


#: When the prices below were listed. They are the long-standing us-east-1 list prices (unchanged on the AWS
#: EC2 On-Demand pricing page through 2024); they were not re-read live for this release. Prices change:
#: check the page before relying on them.
PRICES_AS_OF = "2024 (not re-checked live for this release)"

#: Fixed-performance general purpose (m5), compute optimised (c5) and memory optimised (r5) types. Burstable t3
#: types are left out: their vCPUs are only partly usable for long without buying CPU credits.
INSTANCE_TYPES: tuple[InstanceType, ...] = (
    InstanceType("c5.large", 2, 4, 0.085),
    InstanceType("c5.xlarge", 4, 8, 0.17),
    InstanceType("c5.2xlarge", 8, 16, 0.34),
    InstanceType("m5.large", 2, 8, 0.096),
    InstanceType("m5.xlarge", 4, 16, 0.192),
    InstanceType("m5.2xlarge", 8, 32, 0.384),
    InstanceType("r5.large", 2, 16, 0.126),
    InstanceType("r5.xlarge", 4, 32, 0.252),
    InstanceType("r5.2xlarge", 8, 64, 0.504),
)
_TYPES = {t.name: t for t in INSTANCE_TYPES}


def instance_type(name: str) -> InstanceType:
    """The :class:`InstanceType` called ``name``; a clear message for an unknown one."""
    if name not in _TYPES:
        raise ParameterError(f"instance_type must be one of {', '.join(_TYPES)}, got {name!r}")
    return _TYPES[name]
