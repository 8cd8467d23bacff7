"""Lesson 02's CloudFormation template: rendered from the model's parameters, linted by the real cfn-lint."""

from __future__ import annotations

import copy

import pytest
import yaml

from labsupport.artifacts.cloudformation import LintReport, lint_template, render_template, to_yaml
from labsupport.sim import ParameterError
from labsupport.sim.vm import VmParams


@pytest.fixture(scope="module")
def template() -> dict:
    return render_template()


def test_template_carries_the_model_parameters(template: dict) -> None:
    r = template["Resources"]
    tg = r["TargetGroup"]["Properties"]
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"], tg["HealthyThresholdCount"],
            tg["UnhealthyThresholdCount"]) == (30, 5, 5, 2)
    assert tg["TargetGroupAttributes"] == [{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}]
    asg = r["AutoScalingGroup"]
    assert asg["Properties"]["DesiredCapacity"] == "3"
    assert asg["Properties"]["HealthCheckType"] == "ELB" and asg["Properties"]["HealthCheckGracePeriod"] == 300
    assert asg["UpdatePolicy"]["AutoScalingRollingUpdate"] == {"MaxBatchSize": 1, "MinInstancesInService": 2,
                                                               "PauseTime": "PT300S"}
    assert r["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["InstanceType"] == "m5.large"
    other = render_template(VmParams(desired_capacity=10, min_healthy_percentage=50, health_check_interval_s=10,
                                     instance_type="c5.xlarge", grace_period_s=0.0))
    props = other["Resources"]["AutoScalingGroup"]
    assert props["UpdatePolicy"]["AutoScalingRollingUpdate"]["MaxBatchSize"] == 5
    assert props["Properties"]["HealthCheckGracePeriod"] == 0
    assert other["Resources"]["TargetGroup"]["Properties"]["HealthCheckIntervalSeconds"] == 10


def test_yaml_round_trips(template: dict) -> None:
    text = to_yaml(template)
    assert yaml.safe_load(text) == template
    assert text.index("AWSTemplateFormatVersion") < text.index("Resources")


def test_render_checks_parameters_unless_told_not_to() -> None:
    with pytest.raises(ParameterError, match="health_check_interval_s must be at least 5"):
        render_template(VmParams(health_check_interval_s=3))
    raw = render_template(VmParams(health_check_interval_s=3), check=False)
    assert raw["Resources"]["TargetGroup"]["Properties"]["HealthCheckIntervalSeconds"] == 3


def test_the_rendered_template_is_valid(template: dict) -> None:
    report = lint_template(template)
    assert isinstance(report, LintReport)
    assert report.ok and report.messages == (), str(report)
    assert report.resources == 7
    assert "no problems found in 7 resources" in str(report)
    assert "cfn-lint" in report._repr_html_()
    assert lint_template(to_yaml(template)).ok  # text works as well as a dict


def _broken(template: dict, *path_and_value: object) -> dict:
    broken = copy.deepcopy(template)
    *path, key, value = path_and_value
    node = broken
    for part in path:
        node = node[part]
    if value is _DELETE:
        del node[key]
    else:
        node[key] = value
    return broken


_DELETE = object()


@pytest.mark.parametrize(("path_and_value", "rule", "where", "words"), [
    (("Resources", "TargetGroup", "Properties", "HealthCheckIntervalSeconds", 3), "E3034",
     "Resources/TargetGroup/Properties/HealthCheckIntervalSeconds", "3 is less than the minimum of 5"),
    (("Resources", "TargetGroup", "Properties", "HealthyThresholdCount", 11), "E3034",
     "Resources/TargetGroup/Properties/HealthyThresholdCount", "11 is greater than the maximum of 10"),
    (("Resources", "LaunchTemplate", "Properties", "LaunchTemplateData", "InstanceType", "m5.lrage"), "E3628",
     "Resources/LaunchTemplate/Properties/LaunchTemplateData/InstanceType", "close ones: m5.large"),
    (("Resources", "AutoScalingGroup", "Properties", "HealthCheckType", "ALB"), "E3031",
     "Resources/AutoScalingGroup/Properties/HealthCheckType", "'ALB' does not match"),
    (("Resources", "LoadBalancer", _DELETE), "E1020", "Resources/Listener/Properties/LoadBalancerArn/Ref",
     "'LoadBalancer' is not one of"),
])
def test_invalid_templates_get_the_linters_own_message(template: dict, path_and_value: tuple, rule: str, where: str,
                                                       words: str) -> None:
    report = lint_template(_broken(template, *path_and_value))
    assert not report.ok
    found = [m for m in report.errors if m.rule_id == rule and m.path == where]
    assert found, str(report)
    assert words in found[0].message
    assert len(found[0].message) < 300  # the 1,400 allowed instance types are counted, not listed
    assert found[0].line > 0


def test_unreadable_templates_never_raise() -> None:
    not_yaml = lint_template("Resources: [1")
    assert not not_yaml.ok and not_yaml.errors[0].rule_id == "E0000" and "not valid YAML" in str(not_yaml)
    empty = lint_template("{}")
    assert not empty.ok and "'Resources' is a required property" in str(empty)
    odd = lint_template("Resources: 5")
    assert not odd.ok and odd.resources == 0


def test_the_kept_runner_carries_nothing_from_one_lint_to_the_next(template: dict) -> None:
    broken = _broken(template, "Resources", "TargetGroup", "Properties", "HealthCheckIntervalSeconds", 3)
    assert not lint_template(broken).ok
    assert lint_template(template).ok
    assert [m.rule_id for m in lint_template(broken).errors] == ["E3034"]
