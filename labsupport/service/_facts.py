"""Facts about the Restaurant Service that every deployment of it shares, in one place.

The service itself (:mod:`labsupport.service`), the real artifacts that deploy it (the Dockerfile, the
CloudFormation template, the Kubernetes manifests) and the student release's checks read these names: change
the port here and every one of them follows. Everything outside the service imports them from
:mod:`labsupport.facts`. They are defined here, inside the service, because the service is packaged on its own
(the zipapp, the wheel and the container image carry only its modules, standard library only): plain data, no
imports.
"""

from __future__ import annotations

__all__ = ["HEALTH_PATH", "SERVICE_PORT"]

#: The port the Restaurant Service listens on (``python -m labsupport.service --port 8080``).
SERVICE_PORT = 8080
#: The path that answers ``{"status": "ok", ...}`` while the service is healthy: load balancer health checks,
#: Docker's HEALTHCHECK and Kubernetes' probes all ask it.
HEALTH_PATH = "/health"
