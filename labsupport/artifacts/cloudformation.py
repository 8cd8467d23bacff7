"""The CloudFormation template that would create lesson 02's deployment, and a real linter's verdict on it.

:func:`render_template` turns the same :class:`~labsupport.sim.vm.VmParams` the model runs on into a template:
a launch template pointing at the baked AMI, an Auto Scaling group, an Application Load Balancer with a
listener, a target group with its health check, and two security groups. :func:`lint_template` checks a
template with `cfn-lint <https://github.com/aws-cloudformation/cfn-lint>`_ (AWS's own linter, which validates
against the CloudFormation resource schemas it ships with: it needs no network and no AWS account) and returns
its findings as short, readable messages. Neither function raises on a bad template: the report says what is
wrong.
"""

from __future__ import annotations

import copy
import difflib
import functools
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from labsupport.artifacts._report import report_html
from labsupport.facts import HEALTH_PATH, SERVICE_PORT
from labsupport.sim.vm import VmParams, refresh_batch_size

__all__ = ["LintMessage", "LintReport", "lint_template", "render_template", "to_yaml"]

DEFAULT_IMAGE_ID = "ami-0123456789abcdef0"  # a placeholder: the pipeline passes the AMI it baked


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def render_template(params: VmParams | None = None, *, image_id: str = DEFAULT_IMAGE_ID,
                    check: bool = True) -> dict[str, Any]:
    """The template for ``params`` as a plain dict (see :func:`to_yaml` for its YAML).

    With ``check=False`` the parameters are not validated first, so a value the model would refuse reaches
    the template, and the linter has its say about it.
    """
    p = params or VmParams()
    if check:
        p = p.validated()
    batch = refresh_batch_size(int(p.desired_capacity), int(p.min_healthy_percentage)) \
        if isinstance(p.desired_capacity, int) and isinstance(p.min_healthy_percentage, int) else 1
    desired = p.desired_capacity
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (f"Restaurant Service as virtual machines: {desired} x {p.instance_type} from a baked AMI, "
                        "kept healthy by an Auto Scaling group behind an Application Load Balancer "
                        "(rendered by labsupport from lesson 02's VmParams)"),
        "Parameters": {
            "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "the VPC to deploy into"},
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>",
                          "Description": "subnets in at least two Availability Zones"},
            "ImageId": {"Type": "AWS::EC2::Image::Id", "Default": image_id,
                        "Description": "the AMI the deployment pipeline baked (the service is already installed)"},
        },
        "Resources": {
            "LoadBalancerSecurityGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": "HTTP from the internet to the load balancer",
                    "VpcId": _ref("VpcId"),
                    "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                              "CidrIp": "0.0.0.0/0"}],
                },
            },
            "InstanceSecurityGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": "the service port, from the load balancer only",
                    "VpcId": _ref("VpcId"),
                    "SecurityGroupIngress": [{
                        "IpProtocol": "tcp", "FromPort": SERVICE_PORT, "ToPort": SERVICE_PORT,
                        "SourceSecurityGroupId": {"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]}}],
                },
            },
            "LaunchTemplate": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {
                        "ImageId": _ref("ImageId"),
                        "InstanceType": p.instance_type,
                        "SecurityGroupIds": [{"Fn::GetAtt": ["InstanceSecurityGroup", "GroupId"]}],
                        "MetadataOptions": {"HttpTokens": "required"},
                    },
                },
            },
            "LoadBalancer": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {
                    "Type": "application",
                    "Scheme": "internet-facing",
                    "Subnets": _ref("SubnetIds"),
                    "SecurityGroups": [_ref("LoadBalancerSecurityGroup")],
                },
            },
            "TargetGroup": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {
                    "VpcId": _ref("VpcId"),
                    "TargetType": "instance",
                    "Protocol": "HTTP",
                    "Port": SERVICE_PORT,
                    "HealthCheckProtocol": "HTTP",
                    "HealthCheckPath": HEALTH_PATH,
                    "HealthCheckIntervalSeconds": p.health_check_interval_s,
                    "HealthCheckTimeoutSeconds": p.health_check_timeout_s,
                    "HealthyThresholdCount": p.healthy_threshold,
                    "UnhealthyThresholdCount": p.unhealthy_threshold,
                    "Matcher": {"HttpCode": "200"},
                    "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds",
                                               "Value": _number_text(p.deregistration_delay_s)}],
                },
            },
            "Listener": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": _ref("LoadBalancer"),
                    "Port": 80,
                    "Protocol": "HTTP",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": _ref("TargetGroup")}],
                },
            },
            "AutoScalingGroup": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {
                    "MinSize": str(desired),
                    "MaxSize": str(desired * 2 if isinstance(desired, int) else desired),
                    "DesiredCapacity": str(desired),
                    "LaunchTemplate": {"LaunchTemplateId": _ref("LaunchTemplate"),
                                       "Version": {"Fn::GetAtt": ["LaunchTemplate", "LatestVersionNumber"]}},
                    "VPCZoneIdentifier": _ref("SubnetIds"),
                    "TargetGroupARNs": [_ref("TargetGroup")],
                    "HealthCheckType": p.health_check_type,
                    "HealthCheckGracePeriod": _int_if_whole(p.grace_period_s),
                },
                "UpdatePolicy": {
                    "AutoScalingRollingUpdate": {
                        "MaxBatchSize": batch,
                        "MinInstancesInService": max(0, desired - batch) if isinstance(desired, int) else 0,
                        "PauseTime": f"PT{_int_if_whole(p.warmup_s)}S",
                    },
                },
            },
        },
        "Outputs": {
            "ServiceUrl": {"Description": "where users reach the service",
                           "Value": {"Fn::Sub": "http://${LoadBalancer.DNSName}/"}},
        },
    }


def _int_if_whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _number_text(value: Any) -> str:
    return str(_int_if_whole(value))


def to_yaml(template: Mapping[str, Any]) -> str:
    """The template as YAML, keys in the order written (what you would commit next to the pipeline)."""
    return str(yaml.safe_dump(copy.deepcopy(dict(template)), sort_keys=False, width=110, default_flow_style=False))


@dataclass(frozen=True, slots=True)
class LintMessage:
    """One finding of cfn-lint: its rule (``E3034``), level, where in the template, and what it says."""

    rule_id: str
    level: str  # "error", "warning" or "informational"
    path: str  # "Resources/TargetGroup/Properties/HealthCheckIntervalSeconds"
    message: str
    line: int = 0

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.rule_id} {self.level} at {self.path}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class LintReport:
    """What cfn-lint said about a template. ``ok`` is True when it found no errors (warnings allowed)."""

    messages: tuple[LintMessage, ...]
    linter: str
    resources: int

    @property
    def errors(self) -> tuple[LintMessage, ...]:
        return tuple(m for m in self.messages if m.level == "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        if not self.messages:
            return f"✔ {self.linter}: no problems found in {self.resources} resources"
        head = "✔" if self.ok else "✘"
        lines = [f"{head} {self.linter}: {len(self.errors)} error(s), "
                 f"{len(self.messages) - len(self.errors)} other finding(s) in {self.resources} resources"]
        lines += [f"  {m}" for m in self.messages]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = [f"<li><code>{html.escape(m.rule_id)}</code> {html.escape(m.level)} at "
                 f"<code>{html.escape(m.path)}</code>: {html.escape(m.message)}</li>" for m in self.messages]
        return report_html(self.ok, str(self).splitlines()[0], items)


_ENUM = re.compile(r"^(?P<value>'[^']*'|\S+) is not one of \[(?P<items>.*)\](?P<rest>.*)$", re.S)


def _shorten(message: str) -> str:
    """cfn-lint lists every allowed value (over 900 instance types); keep its words, count the list."""
    match = _ENUM.match(message)
    if not match:
        return message
    items = [item.strip().strip("'\"") for item in match.group("items").split(",") if item.strip()]
    if len(items) <= 8:
        return message
    value = match.group("value").strip("'\"")
    close = difflib.get_close_matches(value, items, n=3, cutoff=0.75)
    suggestion = f"; close ones: {', '.join(close)}" if close else ""
    return f"{match.group('value')} is not one of the {len(items)} allowed values{match.group('rest')}{suggestion}"


def _linter_name() -> str:
    from importlib.metadata import version

    return f"cfn-lint {version('cfn-lint')}"


@functools.lru_cache(maxsize=4)
def _runner(regions: tuple[str, ...]) -> Any:
    """cfn-lint's runner with its rules loaded: about a second to build, so built once per set of regions."""
    from cfnlint.api import ConfigMixIn  # imported here: about a second, paid only when a template is linted
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=list(regions)))


def _lint(text: str, regions: tuple[str, ...]) -> list[Any]:
    """cfn-lint's ``api.lint``, with the runner kept between calls (a lint then takes a quarter of a second)."""
    from cfnlint.api import decode_str

    template, errors = decode_str(text)
    if errors:
        return list(errors)
    if template is None:
        return []
    return list(_runner(tuple(regions)).validate_template(template))


def lint_template(template: Mapping[str, Any] | str, *, regions: tuple[str, ...] = ("us-east-1",)) -> LintReport:
    """Lint ``template`` (a dict from :func:`render_template`, or YAML/JSON text) with cfn-lint.

    Never raises for a bad template: text that is not YAML, or a template cfn-lint cannot read, comes back as a
    report with one error.
    """
    linter = _linter_name()
    if isinstance(template, str):
        text = template
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as error:
            return LintReport((LintMessage("E0000", "error", "(template)", f"not valid YAML: {error}"),), linter, 0)
    else:
        parsed = template
        text = to_yaml(template)
    found = parsed.get("Resources") if isinstance(parsed, dict) else None
    resources = len(found) if isinstance(found, dict) else 0
    try:
        matches = _lint(text, tuple(regions))
    except Exception as error:  # noqa: BLE001 - the learner sees what went wrong, never a traceback
        return LintReport((LintMessage("E0000", "error", "(template)", f"cfn-lint could not read it: {error}"),),
                          linter, resources)
    messages = []
    for match in matches:
        path = "/".join(str(part) for part in (getattr(match, "path", None) or [])) or "(template)"
        level = str(getattr(match.rule, "severity", "") or
                    {"E": "error", "W": "warning", "I": "informational"}.get(match.rule.id[:1], "error"))
        messages.append(LintMessage(match.rule.id, level, path, _shorten(str(match.message)),
                                    int(getattr(match, "linenumber", 0) or 0)))
    messages.sort(key=lambda m: ({"error": 0, "warning": 1}.get(m.level, 2), m.line, m.rule_id))
    return LintReport(tuple(messages), linter, resources)
