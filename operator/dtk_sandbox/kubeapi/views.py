"""
The representations a client can ask for with ``Accept``: the objects themselves, a
``meta.k8s.io/v1 Table`` (what ``kubectl get`` prints), or metadata only (PartialObjectMetadata).
"""
import datetime
import enum
from typing import Any

from dtk_sandbox.kubeapi import jsonpath, objects
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.specs import PrinterColumn, ResourceSpec

META_API_VERSION = 'meta.k8s.io/v1'
_NAME_COLUMN = {
    'name': 'Name', 'type': 'string', 'format': 'name', 'priority': 0,
    'description': 'Name must be unique within a namespace.',
}


class View(enum.Enum):
    OBJECT = 'object'
    TABLE = 'Table'
    PARTIAL = 'PartialObjectMetadata'


def negotiate(accept: str) -> View:
    """The first media type the client accepts; the real server also answers in that order."""
    for media_type in accept.split(','):
        params = dict(_param(part) for part in media_type.split(';')[1:])
        if params.get('g', 'meta.k8s.io') != 'meta.k8s.io' or params.get('v', 'v1') not in ('v1', 'v1beta1'):
            continue
        if params.get('as') == 'Table':
            return View.TABLE
        if params.get('as') in ('PartialObjectMetadata', 'PartialObjectMetadataList'):
            return View.PARTIAL
        if 'as' not in params:
            return View.OBJECT
    return View.OBJECT


def _param(part: str) -> tuple[str, str]:
    key, _, value = part.strip().partition('=')
    return key.strip(), value.strip()


def table(spec: ResourceSpec, objs: list[Body], *, rv: str | None, now: datetime.datetime,
          include_object: str = 'Metadata') -> Body:
    columns = spec.printer_columns
    return {
        'kind': 'Table',
        'apiVersion': META_API_VERSION,
        'metadata': {'resourceVersion': rv} if rv is not None else {},
        'columnDefinitions': [_NAME_COLUMN] + [_definition(column) for column in columns],
        'rows': [_row(obj, columns, now=now, include_object=include_object) for obj in objs],
    }


def partial(obj: Body) -> Body:
    return {'kind': 'PartialObjectMetadata', 'apiVersion': META_API_VERSION, 'metadata': objects.meta(obj)}


def partial_list(objs: list[Body], *, rv: str) -> Body:
    return {'kind': 'PartialObjectMetadataList', 'apiVersion': META_API_VERSION,
            'metadata': {'resourceVersion': rv}, 'items': [partial(obj) for obj in objs]}


def _definition(column: PrinterColumn) -> dict[str, Any]:
    return {'name': column.name, 'type': column.type, 'format': column.format,
            'description': column.description, 'priority': column.priority}


def _row(obj: Body, columns: tuple[PrinterColumn, ...], *, now: datetime.datetime, include_object: str) -> Body:
    cells = [objects.meta(obj).get('name')]
    cells += [jsonpath.cell(jsonpath.find(obj, column.json_path), column.type, now) for column in columns]
    row: Body = {'cells': cells}
    if include_object == 'Object':
        row['object'] = obj
    elif include_object != 'None':
        row['object'] = partial(obj)
    return row
