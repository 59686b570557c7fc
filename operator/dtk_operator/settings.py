"""The one startup handler: kopf settings with our own prefixes, and the services object."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from dtk_api import resources as r
from dtk_operator.engine.services import Options, Services
from dtk_operator.engine.target_factory import TargetFactory
from dtk_operator.kube.client import KubeClient, api_client_from
from dtk_operator.metrics import Metrics
from dtk_operator.targets.local import LocalTarget


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # Our own group for kopf's bookkeeping: never the default kopf.zalando.org names.
    settings.persistence.finalizer = r.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=r.KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=r.KOPF_PREFIX, key="last-handled-configuration")
    # kopf's own handler chatter stays in the log; Events carry what users act on (posted explicitly).
    settings.posting.level = logging.WARNING
    # Watches are re-established at least this often (seconds), so a silently dead
    # connection never leaves the operator blind for long.
    settings.watching.server_timeout = 60
    settings.watching.client_timeout = 90
    settings.watching.connect_timeout = 10
    # Seconds kopf waits at exit for per-object workers still busy (usually sleeping out the
    # consistency wait after their own patch; default 2). What they leave is listed again by the
    # next operator life, so waiting longer only delays a SIGTERM handover to a standby (SPEC 9).
    settings.queueing.exit_timeout = 0.5
    # Told its namespaces (-n), kopf would still list and watch every namespace (to match name
    # patterns; ours are exact names) and every CRD (to notice new ones; ours exist before we start,
    # the chart installs them first): cluster-wide reads that a namespaced install's Roles do not
    # grant. So it scans once at start-up. All namespaces (-A) keeps its CRD watch (the ClusterRole has it).
    settings.scanning.disabled = not settings.peering.clusterwide
    # A failing handler is retried after this many seconds, never in a tight loop.
    settings.execution.max_workers = 20
    options: Options = memo.options
    api = api_client_from(memo.get("kubeconfig"))
    kube = KubeClient(api)
    served = memo.get("metrics")  # `run --leader-elect` serves them from the start, standby included
    metrics = served if isinstance(served, Metrics) else Metrics()
    local = LocalTarget(options.local_root, max_processes=options.local_max_processes)
    targets = TargetFactory(kube=kube, local=local, observe_aws=metrics.aws_call,
                            operator_namespace=options.operator_namespace)
    memo.services = Services(kube=kube, options=options, targets=targets, metrics=metrics)
    if options.metrics_port and served is None:
        metrics.serve(options.metrics_port)
