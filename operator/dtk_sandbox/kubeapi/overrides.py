"""
kmock's DSL on top of the emulator: reactions that tests add take precedence over the emulation.

This is for fault injection, e.g. ``emulator['patch', kmock.resource('example.io/v1/widgets')] << 500``
makes every PATCH of widgets fail until the reaction is depleted or removed. Requests are recorded
(kmock's views match only requests they have seen) only while such reactions exist, so a
long-running sandbox without them keeps no request log.

This leans on kmock 0.8 internals (``_payloads``, ``_requests``, ``_source``, ``_disabled``),
mirroring what ``kmock.RawHandler._handle`` does; the project pins kmock==0.8.
"""
import json
import math
from typing import Any

import kmock
from aiohttp import web
from kmock._internal.rendering import ReactionMismatchError  # raised by reactions, not re-exported by kmock

from dtk_sandbox.kubeapi import urls, watching


async def respond(root: kmock.RawHandler, raw: web.BaseRequest, body: bytes) -> web.StreamResponse | None:
    """The response of the first matching test-defined reaction, or None to let the emulator serve."""
    reactions = [reaction for reaction in root._payloads if not _is_fallback(reaction)]
    if not reactions:
        return None
    request = _kmock_request(raw, body, request_id=len(root._requests))
    root._requests.append(request)
    reactions.sort(key=lambda reaction: tuple(-priority for priority in reaction.priorities))
    for reaction in reactions:
        if request in reaction._source and not reaction._disabled.is_set():
            try:
                return await reaction(request)
            except ReactionMismatchError:  # depleted or declined: kmock disables it
                reaction._disabled.set()
            except NotImplementedError:  # matched but has nothing to respond with
                pass
    return None


def _is_fallback(reaction: kmock.Reaction) -> bool:
    # kmock's own built-in answers are registered at -inf priority; the emulator replaces them.
    return any(math.isinf(priority) and priority < 0 for priority in reaction.priorities)


def _kmock_request(raw: web.BaseRequest, body: bytes, *, request_id: int) -> kmock.Request:
    # Built by hand: kmock's own parser fails on some core URLs (e.g. /api/v1/namespaces).
    path = urls.parse(raw.path)
    return kmock.Request(
        id=request_id, method=raw.method, url=raw.url, params=dict(raw.query), headers=dict(raw.headers),
        cookies=dict(raw.cookies), body=body, text=body.decode('utf-8', errors='replace'), data=_data(body),
        action=_action(raw, path), raw_request=raw,
        resource=kmock.resource(path.group, path.version, path.plural) if path else None,
        namespace=path.namespace if path else None, name=path.name if path else None,
        subresource=path.subresource if path else None,
    )


def _data(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _action(raw: web.BaseRequest, path: urls.ResourcePath | None) -> kmock.action | None:
    if path is None:
        return None
    if raw.method == 'GET' and (path.watch_prefix or raw.query.get('watch', '') in watching.TRUTHY):
        return kmock.action.WATCH
    by_method = {'GET': kmock.action.FETCH, 'PATCH': kmock.action.UPDATE, 'PUT': kmock.action.UPDATE,
                 'DELETE': kmock.action.DELETE} if path.name else {'GET': kmock.action.LIST,
                                                                   'POST': kmock.action.CREATE}
    return by_method.get(raw.method)
