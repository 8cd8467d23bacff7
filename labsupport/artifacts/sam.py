"""The AWS SAM template that deploys lesson 06's Lambda handler, from the same parameters the model runs on.

:func:`render_sam_template` turns a :class:`~labsupport.sim.serverless.ServerlessParams` into a template with
the ``AWS::Serverless-2016-10-31`` transform and one ``AWS::Serverless::Function``: the handler
``labsupport.artifacts.lambda_handler.handler``, a current Python runtime (:data:`RUNTIME`), and the memory,
timeout and architecture the model's cold starts and bill are computed from, so the template and the model
cannot disagree. Its ``HttpApi`` event (no path or method: the catch-all ``$default`` route) makes SAM create
an API Gateway HTTP API that sends every request to the function as a payload-format 2.0 event, the shape
:func:`~labsupport.artifacts.lambda_handler.handler` reads. Provisioned concurrency and a reserved
concurrency limit appear when the parameters set them.

Lint it with :func:`labsupport.artifacts.cloudformation.lint_template`: cfn-lint (1.54 and later) checks
``AWS::Serverless::*`` resources against the SAM schemas it ships, offline, without the ``aws-sam-translator``
package it once needed. It does not run the transform itself: CloudFormation does that when the stack is
deployed (``sam validate`` or ``sam build`` run it locally).
"""

from __future__ import annotations

from typing import Any

from labsupport.sim.serverless import ServerlessParams

__all__ = ["HANDLER", "RUNTIME", "SAM_TRANSFORM", "render_sam_template"]

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
#: Where Lambda finds the handler in the deployment package (the folder holding ``labsupport/``).
HANDLER = "labsupport.artifacts.lambda_handler.handler"
#: The newest Python runtime of AWS Lambda (added November 2025; deprecation scheduled for June 30, 2029:
#: AWS Lambda Developer Guide, "Lambda runtimes" and "Building Lambda functions with Python").
RUNTIME = "python3.14"
#: The concurrency quota an account starts with; a lower ``concurrency_limit`` is a reserved concurrency.
_ACCOUNT_DEFAULT_CONCURRENCY = ServerlessParams().concurrency_limit


def render_sam_template(params: ServerlessParams | None = None, *, runtime: str = RUNTIME,
                        check: bool = True) -> dict[str, Any]:
    """The SAM template for ``params`` (the lesson's defaults when ``None``) as a plain dict.

    ``MemorySize``, ``Timeout`` and ``Architectures`` are ``params.memory_mb``, ``params.timeout_s`` and
    ``params.architecture``. With ``check=False`` the parameters are not validated first, so a value the model
    would refuse reaches the template and cfn-lint has its say about it.
    """
    p = params or ServerlessParams()
    if check:
        p = p.validated()
    properties: dict[str, Any] = {
        "CodeUri": ".",
        "Handler": HANDLER,
        "Runtime": runtime,
        "MemorySize": p.memory_mb,
        "Timeout": p.timeout_s,
        "Architectures": [p.architecture],
        "Events": {"Api": {"Type": "HttpApi", "Properties": {"PayloadFormatVersion": "2.0"}}},
    }
    if isinstance(p.provisioned, int) and p.provisioned > 0:
        properties["AutoPublishAlias"] = "live"  # provisioned concurrency belongs to a version or an alias
        properties["ProvisionedConcurrencyConfig"] = {"ProvisionedConcurrentExecutions": p.provisioned}
    if isinstance(p.concurrency_limit, int) and p.concurrency_limit != _ACCOUNT_DEFAULT_CONCURRENCY:
        properties["ReservedConcurrentExecutions"] = p.concurrency_limit
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": SAM_TRANSFORM,
        "Description": (f"Restaurant Service on AWS Lambda behind an HTTP API: {p.memory_mb} MB, {p.architecture}, "
                        f"{p.timeout_s} s timeout (rendered by labsupport from lesson 06's ServerlessParams)"),
        "Resources": {"RestaurantFunction": {"Type": "AWS::Serverless::Function", "Properties": properties}},
        "Outputs": {
            "ApiUrl": {"Description": "where users reach the service (the HTTP API SAM creates for the event)",
                       "Value": {"Fn::Sub": "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com/"}},
        },
    }
