"""
What the real control plane does for the built-in kinds the emulator serves.

- Namespaces: ``status.phase: Active`` and the ``kubernetes`` spec-finalizer, as the namespace
  controller sets them (the emptying-before-removal itself is in :mod:`removal`).
- CRDs: refused if malformed (422), marked Established, and their resources served, changed and
  withdrawn as the CRD is created, updated and removed (the instances go with it).
"""
import datetime
from collections.abc import Callable
from typing import Any

from dtk_sandbox.kubeapi import crds, objects
from dtk_sandbox.kubeapi.admission.options import WriteOptions
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.specs import ResourceSpec, StorageKey
from dtk_sandbox.kubeapi.store import NAMESPACES, Admit, Store

CRDS: StorageKey = ('apiextensions.k8s.io', 'customresourcedefinitions')


def install(store: Store) -> None:
    store.admission.append(admit_namespace)
    store.admission.append(_crd_admission(store.clock))
    store.observers.append(_crd_observer(store))


def admit_namespace(spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions) -> Body:
    if spec.storage_key != NAMESPACES:
        return new
    status = {'phase': 'Active', **(new.get('status') or {})}
    ns_spec = {'finalizers': ['kubernetes'], **(new.get('spec') or {})}
    return {**new, 'spec': ns_spec, 'status': status}


def _crd_admission(clock: Callable[[], datetime.datetime]) -> Admit:
    def admit_crd(spec: ResourceSpec, new: Body, old: Body | None, options: WriteOptions) -> Body:
        if spec.storage_key != CRDS:
            return new
        crds.specs_from_crd(new)  # raises a 422 for a CRD that cannot be served
        status: dict[str, Any] = crds.accepted_status(new, objects.format_time(clock()))
        old_conditions = ((old or {}).get('status') or {}).get('conditions')
        if old_conditions:
            status['conditions'] = old_conditions  # keep the transition times: nothing transitioned
        return {**new, 'status': status}
    return admit_crd


def _crd_observer(store: Store) -> Callable[[ResourceSpec, Body | None, Body | None], None]:
    def observe_crd(spec: ResourceSpec, old: Body | None, new: Body | None) -> None:
        if spec.storage_key != CRDS:
            return
        name = objects.meta(new if new is not None else old or {}).get('name', '')
        served = crds.specs_from_crd(new) if new is not None else []
        withdrawn = store.registry.set_crd(name, served)
        for gone in {spec.storage_key: spec for spec in withdrawn}.values():
            if store.registry.preferred(gone.storage_key) is None:
                store.purge(gone)  # no version serves them any more: the instances go too
    return observe_crd
