"""
Watch streams: newline-delimited JSON events over a chunked ``application/json`` response.

Semantics of the real server that clients depend on:
- no ``resourceVersion`` (or "0"): synthetic ADDED events for the current state, then live ones;
- a ``resourceVersion``: the changes after it, from the history (410 Expired if it is too old);
- selectors apply to events: an object that stops matching is DELETED for this watch, one
  that starts matching is ADDED;
- ``timeoutSeconds`` ends the stream; ``sendInitialEvents`` ends the initial part with a bookmark.
"""
import asyncio
import json
from collections.abc import Callable, Mapping

from aiohttp import web

from dtk_sandbox.kubeapi import errors, objects
from dtk_sandbox.kubeapi.changes import Change, Subscription
from dtk_sandbox.kubeapi.objects import Body
from dtk_sandbox.kubeapi.selectors import Selector
from dtk_sandbox.kubeapi.specs import ResourceSpec
from dtk_sandbox.kubeapi.store import Store

TRUTHY = frozenset({'1', 't', 'T', 'true', 'True', 'TRUE'})  # Go's strconv.ParseBool; the python client sends "True"
Event = tuple[str, Body]  # (type, object)
Render = Callable[[Body], Body]


async def serve(request: web.BaseRequest, *, store: Store, spec: ResourceSpec, namespace: str | None,
                selector: Selector, render: Render) -> web.StreamResponse:
    params = request.query
    timeout = _timeout(params)
    response = web.StreamResponse(headers={'Content-Type': 'application/json'})
    subscription = store.changes.subscribe(spec.storage_key)
    try:
        # Subscribing and reading the initial events happen in one synchronous step: no gap.
        try:
            initial, final = _initial_events(store, spec, namespace, selector, params), None
        except errors.ApiError as error:  # too old a resourceVersion: an ERROR event, as the real server
            initial, final = [], error
        await response.prepare(request)
        for event_type, obj in initial:
            await _write(response, event_type, render(obj))
        if final is None and params.get('sendInitialEvents') in TRUTHY:
            await _write(response, 'BOOKMARK', _bookmark(spec, store.resource_version))
        if final is None:
            final = await _stream(response, subscription, namespace, selector, render, timeout)
        if final is not None:
            await _write(response, 'ERROR', final.as_status())
        await response.write_eof()
    except ConnectionError:
        pass  # the client has gone: nothing to finish
    finally:
        store.changes.unsubscribe(subscription)
    return response


def _initial_events(store: Store, spec: ResourceSpec, namespace: str | None, selector: Selector,
                    params: Mapping[str, str]) -> list[Event]:
    since = params.get('resourceVersion', '')
    if since in ('', '0') or params.get('sendInitialEvents') in TRUTHY:
        return [('ADDED', obj) for obj in store.list_objects(spec, namespace) if selector.matches(obj)]
    try:
        rv = int(since)
    except ValueError:
        raise errors.bad_request(f'invalid resourceVersion: {since!r}') from None
    events = (_event(change, namespace, selector) for change in store.changes.since(rv, spec.storage_key))
    return [event for event in events if event is not None]


async def _stream(response: web.StreamResponse, subscription: Subscription, namespace: str | None,
                  selector: Selector, render: Render, timeout: float | None) -> errors.ApiError | None:
    """Live events until the timeout, the server's shutdown, or the client's disconnection."""
    try:
        async with asyncio.timeout(timeout):
            while (change := await subscription.next()) is not None:
                event = _event(change, namespace, selector)
                if event is not None:
                    await _write(response, event[0], render(event[1]))
    except TimeoutError:
        pass
    return errors.expired('the watch fell too far behind; re-list') if subscription.expired else None


def _event(change: Change, namespace: str | None, selector: Selector) -> Event | None:
    if namespace is not None and objects.meta(change.obj).get('namespace') != namespace:
        return None
    matches_now = selector.matches(change.obj)
    matched_before = change.old is not None and change.type != 'DELETED' and selector.matches(change.old)
    if change.type != 'MODIFIED':
        return (change.type, change.obj) if matches_now else None
    if matches_now:
        return ('MODIFIED' if matched_before else 'ADDED', change.obj)
    return ('DELETED', change.obj) if matched_before else None


def _timeout(params: Mapping[str, str]) -> float | None:
    try:
        return float(params['timeoutSeconds']) if params.get('timeoutSeconds') else None
    except ValueError:
        raise errors.bad_request(f'invalid timeoutSeconds: {params["timeoutSeconds"]!r}') from None


def _bookmark(spec: ResourceSpec, rv: int) -> Body:
    return {'kind': spec.kind, 'apiVersion': spec.api_version,
            'metadata': {'resourceVersion': str(rv), 'annotations': {'k8s.io/initial-events-end': 'true'}}}


async def _write(response: web.StreamResponse, event_type: str, obj: Body) -> None:
    await response.write(json.dumps({'type': event_type, 'object': obj}, separators=(',', ':')).encode() + b'\n')
