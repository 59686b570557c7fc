"""
A Kubernetes API emulator for the embedded sandbox and the end-to-end tests.

Built on kmock's ``KubernetesEmulator`` (kmock's DSL reactions still work, for fault injection),
with the realism that a real kopf operator, the kubernetes client, pykube and kubectl need:

- objects: uid, resourceVersion (one global counter), generation (bumped by changes outside
  metadata and status), creationTimestamp; 201 on create; generateName; 404/409/422 Status bodies;
  optimistic concurrency; PUT; JSON patch, merge patch, strategic merge (approximated, built-in
  kinds only: custom resources refuse it with 415, as on a real server);
  ``/status`` separation; finalizers and deletionTimestamp; ownerReference garbage collection;
  namespaces that must exist and that empty themselves when deleted;
- lists with kinds and resourceVersions, label and field selectors, ``limit``/``continue``;
- watches that resume from a resourceVersion with no gap (410 when too old), honour
  ``timeoutSeconds`` and selectors, and stream as JSON lines (kubectl ``get -w`` works);
- CRDs that register their resources for discovery, CRUD and watches; ``Table`` output with the
  CRDs' printer columns for ``kubectl get``;
- custom resources admitted as kube-apiserver 1.28 admits them (:mod:`.admission`): pruning with
  ``fieldValidation`` (Ignore, Warn with ``Warning`` headers, Strict), defaulting, the structural
  schema, list-map keys, metadata names and labels, CEL rules with transition rules, the 422's
  wording; the 3 MiB request and 1.5 MiB object limits. ``KubeApiEmulator(validation=False)``
  turns schema admission off (for tests of a client's own defences);
- OpenAPI v3 documents with the CRDs' schemas (``kubectl explain``, kubectl's field validation)
  and protobuf Namespace creation (``kubectl create namespace``).

RBAC is not emulated for everyone: ``KubeApiEmulator(accesses=AccessLog())`` logs which client
(by User-Agent) asked for what, and ``emulator.enforcement.bind(...)`` holds chosen clients to roles
with Kubernetes' RBAC matching (:mod:`.rbac`), answering 403 as kube-apiserver does.

Not emulated: authentication, server-side apply, the aggregated discovery format (kubectl falls back),
admission webhooks, validation ratcheting, CEL cost budgets at runtime.

Typical use::

    with ServedApi() as api:
        api.install_crds('crds/')
        write_kubeconfig(tmp_path / 'kubeconfig', api.url)
        ...
"""
from dtk_sandbox.kubeapi.crds import load_crds
from dtk_sandbox.kubeapi.emulator import KubeApiEmulator
from dtk_sandbox.kubeapi.kubeconfig import kubeconfig, write_kubeconfig
from dtk_sandbox.kubeapi.serving import ServedApi, serve_in_thread, serving
from dtk_sandbox.kubeapi.specs import PrinterColumn, ResourceSpec

__all__ = [
    'KubeApiEmulator',
    'PrinterColumn',
    'ResourceSpec',
    'ServedApi',
    'kubeconfig',
    'load_crds',
    'serve_in_thread',
    'serving',
    'write_kubeconfig',
]
