"""
What the emulator knows about a resource: enough for discovery, routing, storage and printing.

One :class:`ResourceSpec` per served group/version/plural. Several versions of one CRD share
storage (``storage_key``), as on a real server where the versions are views of one object.
"""
import dataclasses
from collections.abc import Mapping
from typing import Any

StorageKey = tuple[str, str]  # (group, plural): one store per resource, whatever the version

ALL_VERBS = ('create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch')
STATUS_VERBS = ('get', 'patch', 'update')


@dataclasses.dataclass(frozen=True)
class PrinterColumn:
    """A column of ``kubectl get``, as in a CRD's ``additionalPrinterColumns``."""
    name: str
    type: str  # string, integer, number, boolean, date
    json_path: str  # a simple JSONPath: .status.phase, .status.conditions[?(@.type=="Ready")].status
    description: str = ''
    priority: int = 0  # 0 = shown by default; >0 only with `-o wide`
    format: str = ''


AGE_COLUMN = PrinterColumn(name='Age', type='date', json_path='.metadata.creationTimestamp',
                           description='CreationTimestamp is a timestamp representing the server time '
                                       'when this object was created.')


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    group: str  # '' for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ''
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_status: bool = False  # a separate /status subresource: main writes keep status, /status writes only it
    builtin: bool = False  # built-in kinds take strategic-merge patches; custom ones refuse them (415)
    printer_columns: tuple[PrinterColumn, ...] = (AGE_COLUMN,)
    preferred: bool = True  # the group's preferred (storage) version
    # A CRD version's ``schema.openAPIV3Schema`` (None for built-ins and schema-less versions).
    # Read-only: shared with the stored CRD object; not part of the spec's identity.
    schema: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f'{self.group}/{self.version}' if self.group else self.version

    @property
    def storage_key(self) -> StorageKey:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f'{self.kind}List'


def _core(version: str, plural: str, kind: str, *, group: str = '', namespaced: bool = True,
          short_names: tuple[str, ...] = (), has_status: bool = False,
          columns: tuple[PrinterColumn, ...] = (AGE_COLUMN,)) -> ResourceSpec:
    return ResourceSpec(group=group, version=version, plural=plural, kind=kind, namespaced=namespaced,
                        singular=kind.lower(), short_names=short_names, has_status=has_status,
                        builtin=True, printer_columns=columns)


def core_specs() -> list[ResourceSpec]:
    """
    The built-in resources the project and its tools touch.

    ``v1/namespaces`` is not optional: kopf silently never starts watching without it.
    """
    phase = PrinterColumn(name='Status', type='string', json_path='.status.phase')
    holder = PrinterColumn(name='Holder', type='string', json_path='.spec.holderIdentity')
    event_columns = (
        PrinterColumn(name='Type', type='string', json_path='.type'),
        PrinterColumn(name='Reason', type='string', json_path='.reason'),
        PrinterColumn(name='Message', type='string', json_path='.message'),
        AGE_COLUMN,
    )
    created = PrinterColumn(name='Created At', type='string', json_path='.metadata.creationTimestamp')
    return [
        _core('v1', 'namespaces', 'Namespace', namespaced=False, short_names=('ns',), has_status=True,
              columns=(phase, AGE_COLUMN)),
        _core('v1', 'events', 'Event', short_names=('ev',), columns=event_columns),
        _core('v1', 'secrets', 'Secret'),
        _core('v1', 'configmaps', 'ConfigMap', short_names=('cm',)),
        _core('v1', 'events', 'Event', group='events.k8s.io', short_names=('ev',)),
        _core('v1', 'leases', 'Lease', group='coordination.k8s.io', columns=(holder, AGE_COLUMN)),
        _core('v1', 'customresourcedefinitions', 'CustomResourceDefinition', group='apiextensions.k8s.io',
              namespaced=False, short_names=('crd', 'crds'), has_status=True, columns=(created,)),
    ]
