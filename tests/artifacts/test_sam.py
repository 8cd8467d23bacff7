"""Lesson 06's SAM template: rendered from the model's parameters, linted by the real cfn-lint (SAM schemas)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from labsupport.artifacts import render_sam_template
from labsupport.artifacts.cloudformation import lint_template, to_yaml
from labsupport.artifacts.lambda_handler import handler
from labsupport.artifacts.sam import HANDLER, RUNTIME, SAM_TRANSFORM
from labsupport.sim import ParameterError
from labsupport.sim.serverless import ServerlessParams, init_s, lambda_cost, run_serverless, trace_cost


def _function(template: dict) -> dict:
    return template["Resources"]["RestaurantFunction"]


def test_the_template_is_the_models_function() -> None:
    template = render_sam_template()
    p = ServerlessParams()
    assert template["Transform"] == SAM_TRANSFORM == "AWS::Serverless-2016-10-31"
    fn = _function(template)
    assert fn["Type"] == "AWS::Serverless::Function"
    props = fn["Properties"]
    assert (props["MemorySize"], props["Timeout"], props["Architectures"]) == (p.memory_mb, p.timeout_s,
                                                                             [p.architecture])
    assert (props["MemorySize"], props["Timeout"], props["Architectures"]) == (512, 10, ["x86_64"])
    assert props["Runtime"] == RUNTIME == "python3.14"
    assert props["Events"] == {"Api": {"Type": "HttpApi", "Properties": {"PayloadFormatVersion": "2.0"}}}
    module, name = HANDLER.rsplit(".", 1)
    assert getattr(__import__(module, fromlist=[name]), name) is handler  # the handler Lambda would import
    assert "ProvisionedConcurrencyConfig" not in props and "ReservedConcurrentExecutions" not in props


def test_other_parameters_reach_the_template_and_the_model_alike() -> None:
    p = ServerlessParams(memory_mb=1769, timeout_s=20, architecture="arm64", provisioned=3, concurrency_limit=50)
    props = _function(render_sam_template(p))["Properties"]
    assert (props["MemorySize"], props["Timeout"], props["Architectures"]) == (1769, 20, ["arm64"])
    assert props["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 3}
    assert props["AutoPublishAlias"] == "live" and props["ReservedConcurrentExecutions"] == 50
    assert p.cold_init_s == init_s(1769)  # the memory the template asks for is the memory the cold start uses
    report = lint_template(render_sam_template(p))
    assert report.ok and report.messages == (), str(report)
    with pytest.raises(ParameterError, match="timeout_s"):
        render_sam_template(ServerlessParams(timeout_s=0))


def test_cfn_lint_accepts_the_template_offline() -> None:
    template = render_sam_template()
    report = lint_template(template)
    assert report.ok and report.messages == () and report.resources == 1, str(report)
    text = to_yaml(template)
    assert yaml.safe_load(text) == template
    assert lint_template(text).messages == ()


def test_a_broken_template_gets_cfn_lints_findings() -> None:
    broken = render_sam_template(runtime="python2.7")
    _function(broken)["Properties"]["MemorySizeMB"] = 512  # a property SAM does not have
    report = lint_template(broken)
    assert not report.ok
    assert sorted(m.rule_id for m in report.messages) == ["E2533", "E3002"]
    by_rule = {m.rule_id: m for m in report.messages}
    assert "python2.7" in by_rule["E2533"].message and "deprecated on '2021-07-15'" in by_rule["E2533"].message
    assert by_rule["E2533"].path == "Resources/RestaurantFunction/Properties/Runtime"
    assert "Did you mean 'MemorySize'" in by_rule["E3002"].message
    without = render_sam_template()
    del without["Transform"]
    assert "E3038" in {m.rule_id for m in lint_template(without).messages}  # SAM types need the transform
    too_small = lint_template(render_sam_template(ServerlessParams(memory_mb=64), check=False))
    assert [m.rule_id for m in too_small.messages] == ["E3034"]


def test_the_template_costs_what_the_model_bills() -> None:
    p = ServerlessParams(memory_mb=1024, architecture="arm64")
    props = _function(render_sam_template(p))["Properties"]
    trace = run_serverless(p, seed=2)
    served = ~trace.series["request_throttled"]
    billed_s = float(trace.series["request_billed_ms"][served].sum()) / 1000.0
    from_template = lambda_cost(int(served.sum()), billed_s * props["MemorySize"] / 1024.0,
                                architecture=props["Architectures"][0])
    assert from_template.total_usd == pytest.approx(trace_cost(trace).total_usd, rel=1e-12)
    assert from_template.total_usd < trace_cost(run_serverless(p, seed=2, architecture="x86_64")).total_usd


def test_the_lambda_package_does_not_import_the_models() -> None:
    code = ("import sys, labsupport.artifacts.lambda_handler; "
            "print('numpy' in sys.modules, 'labsupport.sim' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]  # importing the handler pulls in only the service
