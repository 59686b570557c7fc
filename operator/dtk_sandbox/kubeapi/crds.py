"""
CustomResourceDefinitions: what an ``apiextensions.k8s.io/v1`` CRD declares, and loading them from files.

Only the parts that change how the API behaves are read (names, scope, versions, status
subresource, printer columns, the schema that :mod:`.admission` enforces).
"""
import pathlib
from typing import Any

import yaml

from dtk_sandbox.kubeapi import errors
from dtk_sandbox.kubeapi.specs import AGE_COLUMN, PrinterColumn, ResourceSpec

CRD_API_VERSION = 'apiextensions.k8s.io/v1'
CRD_KIND = 'CustomResourceDefinition'


def specs_from_crd(crd: dict[str, Any]) -> list[ResourceSpec]:
    """One spec per served version; raises a 422 for a CRD a real server would refuse."""
    spec = crd.get('spec') or {}
    names = spec.get('names') or {}
    group, plural, kind = spec.get('group'), names.get('plural'), names.get('kind')
    name = (crd.get('metadata') or {}).get('name', '')
    if not group or not plural or not kind:
        raise _invalid(name, 'spec.group, spec.names.plural and spec.names.kind are required')
    if name != f'{plural}.{group}':
        raise _invalid(name, f'metadata.name: must be spec.names.plural+"."+spec.group ({plural}.{group})')
    if spec.get('scope') not in ('Namespaced', 'Cluster'):
        raise _invalid(name, 'spec.scope: must be Namespaced or Cluster')
    versions = [version for version in spec.get('versions') or [] if version.get('served', True)]
    if not versions:
        raise _invalid(name, 'spec.versions: at least one served version is required')
    return [
        ResourceSpec(
            group=group, version=version['name'], plural=plural, kind=kind,
            namespaced=spec['scope'] == 'Namespaced',
            singular=names.get('singular') or kind.lower(),
            short_names=tuple(names.get('shortNames') or ()),
            categories=tuple(names.get('categories') or ()),
            has_status='status' in (version.get('subresources') or {}),
            printer_columns=_columns(version.get('additionalPrinterColumns')),
            preferred=bool(version.get('storage', False)),
            schema=(version.get('schema') or {}).get('openAPIV3Schema'),
        )
        for version in versions
    ]


def accepted_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """The status a real server sets once it serves a CRD (tools wait for ``Established``)."""
    spec = crd.get('spec') or {}
    conditions = [
        {'type': kind, 'status': 'True', 'reason': reason, 'message': message, 'lastTransitionTime': now}
        for kind, reason, message in [
            ('NamesAccepted', 'NoConflicts', 'no conflicts found'),
            ('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
        ]
    ]
    stored = [version['name'] for version in spec.get('versions') or [] if version.get('storage')]
    return {'conditions': conditions, 'acceptedNames': dict(spec.get('names') or {}), 'storedVersions': stored}


def load_crds(directory: str | pathlib.Path) -> list[dict[str, Any]]:
    """Every CRD document in the YAML files of a directory (not recursive), in file-name order."""
    documents: list[dict[str, Any]] = []
    paths = sorted(pathlib.Path(directory).glob('*.y*ml'))
    for path in paths:
        for document in yaml.safe_load_all(path.read_text(encoding='utf-8')):
            if isinstance(document, dict) and document.get('kind') == CRD_KIND:
                documents.append(document)
    return documents


def _columns(raw: list[dict[str, Any]] | None) -> tuple[PrinterColumn, ...]:
    # Without declared columns a real server prints NAME and AGE; with them, exactly those.
    if not raw:
        return (AGE_COLUMN,)
    return tuple(
        PrinterColumn(name=column['name'], type=column.get('type', 'string'), json_path=column['jsonPath'],
                      description=column.get('description', ''), priority=int(column.get('priority', 0)),
                      format=column.get('format', ''))
        for column in raw
    )


def _invalid(name: str, message: str) -> errors.ApiError:
    return errors.unprocessable(f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is invalid: {message}')
