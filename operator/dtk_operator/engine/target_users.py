"""Which instances use a Target: they hold it (it is deleted only once they are gone), and
status.instances counts them. Looked for where the operator may list instances: the namespaces it
watches, or every namespace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dtk_api import resources as r
from dtk_api.targets import wanted_name
from dtk_operator.engine.services import Services


async def watched_instances(services: Services) -> list[Mapping[str, Any]]:
    if services.options.namespaces:
        return [i for ns in services.options.namespaces for i in await services.kube.list(r.INSTANCE_PLURAL, ns)]
    return list(await services.kube.list_cluster(r.INSTANCE_PLURAL))


async def users_of(services: Services, name: str) -> list[str]:
    """`namespace/name` of the instances that run on (or name) Target `name`."""
    return [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in await watched_instances(services)
            if wanted_name(i) == name]


async def count_users(services: Services, name: str) -> None:
    """status.instances again, when an instance takes the Target."""
    if name and await services.kube.get_cluster(r.TARGET_PLURAL, name) is not None:
        await services.kube.patch_cluster_status(r.TARGET_PLURAL, name,
                                                 {"instances": len(await users_of(services, name))})
