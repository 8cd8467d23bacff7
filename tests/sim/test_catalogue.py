"""The instance price catalogue: one home, one lookup, a clear message for a name it does not hold."""

from __future__ import annotations

import pytest

from labsupport.sim import ParameterError, vm
from labsupport.sim.catalogue import INSTANCE_TYPES, instance_type


def test_every_type_is_found_by_its_name_and_names_are_unique() -> None:
    names = [t.name for t in INSTANCE_TYPES]
    assert len(set(names)) == len(names) == 9
    assert all(instance_type(t.name) is t for t in INSTANCE_TYPES)
    m5 = instance_type("m5.large")
    assert (m5.vcpu, m5.memory_gib, m5.usd_per_hour) == (2, 8, 0.096)


@pytest.mark.parametrize("name", ["m5.lrage", "", "M5.LARGE", "t3.micro"])
def test_an_unknown_name_says_which_are_valid(name: str) -> None:
    with pytest.raises(ParameterError, match=r"instance_type must be one of c5\.large, .*r5\.2xlarge, got"):
        instance_type(name)


def test_the_vm_model_no_longer_re_exports_the_catalogue() -> None:
    assert not {"INSTANCE_TYPES", "InstanceType", "PRICES_AS_OF", "instance_type"} & set(vm.__all__)
