"""
Kubernetes RBAC's decision, as kube-apiserver's RBAC authorizer makes it, over roles given as
manifests: which requests a ServiceAccount's bindings allow, which it does not, and which parts of
its rules no request needed.

The matching follows ``k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go``: a rule allows a
request when the verb, the API group, the resource (``plural`` or ``plural/subresource``, ``*`` and
``*/subresource`` included) and, when the rule names any, the object's name all match. A
ClusterRoleBinding applies its role everywhere; a RoleBinding only to requests in its own namespace
(never to cluster-scoped ones, nor to lists across all namespaces). Non-resource URLs (discovery)
match exactly or by a trailing ``*``, and only through ClusterRoleBindings.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

WILDCARD = '*'
_RULE_FIELDS = ('verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs')


@dataclasses.dataclass(frozen=True, order=True)
class Access:
    """One request as the authorizer sees it. ``namespace`` is '' for a cluster-scoped object and for
    a list or watch across all namespaces; ``path`` is set only for non-resource requests."""

    verb: str
    group: str = ''
    resource: str = ''
    subresource: str = ''
    namespace: str = ''
    name: str = ''
    path: str = ''

    @property
    def combined_resource(self) -> str:
        return f'{self.resource}/{self.subresource}' if self.subresource else self.resource

    def __str__(self) -> str:
        if self.path:
            return f'{self.verb} {self.path}'
        name = f' "{self.name}"' if self.name else ''
        where = f' in the namespace "{self.namespace}"' if self.namespace else ' at the cluster scope'
        return f'{self.verb} {self.combined_resource}{name} in API group "{self.group}"{where}'


@dataclasses.dataclass(frozen=True)
class Rule:
    """A PolicyRule."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> Rule:
        return cls(verbs=tuple(raw.get('verbs') or ()), api_groups=tuple(raw.get('apiGroups') or ()),
                   resources=tuple(raw.get('resources') or ()),
                   resource_names=tuple(raw.get('resourceNames') or ()),
                   non_resource_urls=tuple(raw.get('nonResourceURLs') or ()))

    def allows(self, access: Access) -> bool:
        if not _listed(access.verb, self.verbs):
            return False
        if access.path:
            return any(_url_matches(url, access.path) for url in self.non_resource_urls)
        return (_listed(access.group, self.api_groups) and self._resource_matches(access)
                and (not self.resource_names or access.name in self.resource_names))

    def _resource_matches(self, access: Access) -> bool:
        sub = access.subresource
        return any(resource in (WILDCARD, access.combined_resource) or (sub and resource == f'*/{sub}')
                   for resource in self.resources)

    def elements(self) -> Iterator[Rule]:
        """The rule split into the smallest grants it is made of (one verb, group, resource, name or URL
        each): a rule is least when every element is needed by some request."""
        for verb in self.verbs:
            for url in self.non_resource_urls:
                yield Rule(verbs=(verb,), non_resource_urls=(url,))
            for group in self.api_groups:
                for resource in self.resources:
                    names: list[tuple[str, ...]] = [(name,) for name in self.resource_names] or [()]
                    for named in names:
                        yield Rule(verbs=(verb,), api_groups=(group,), resources=(resource,), resource_names=named)

    def __str__(self) -> str:
        if self.non_resource_urls:
            return f'{",".join(self.verbs)} {",".join(self.non_resource_urls)}'
        names = f' named {",".join(self.resource_names)}' if self.resource_names else ''
        groups = ','.join(f'"{group}"' for group in self.api_groups)
        return f'{",".join(self.verbs)} {",".join(self.resources)}{names} in API group {groups}'


def _listed(value: str, allowed: Sequence[str]) -> bool:
    return WILDCARD in allowed or value in allowed


def _url_matches(rule_url: str, path: str) -> bool:
    if rule_url in (WILDCARD, path):
        return True
    return rule_url.endswith(WILDCARD) and path.startswith(rule_url.rstrip(WILDCARD))


@dataclasses.dataclass(frozen=True)
class Grant:
    """A role's rules where a binding applies them: everywhere (``namespace`` '') or in one namespace."""

    role: str  # 'ClusterRole/name' or 'Role/name': the same Role in several namespaces shares it
    namespace: str
    rules: tuple[Rule, ...]

    def applies_to(self, access: Access) -> bool:
        return not self.namespace or (access.namespace == self.namespace and not access.path)

    def allows(self, access: Access) -> bool:
        return self.applies_to(access) and any(rule.allows(access) for rule in self.rules)


# What every authenticated client may read (kube-apiserver's bootstrap ClusterRoles system:discovery
# and system:public-info-viewer, bound to system:authenticated): no chart grants it.
DISCOVERY = Grant(role='ClusterRole/system:discovery', namespace='', rules=(Rule(
    verbs=('get',), non_resource_urls=('/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi',
                                       '/openapi/*', '/readyz', '/version', '/version/')),))


def grants_for(manifests: Iterable[Mapping[str, Any]], *, namespace: str, service_account: str) -> list[Grant]:
    """What the bindings among `manifests` grant the ServiceAccount `namespace`/`service_account`. A
    binding whose role is not among them grants nothing (as on a cluster)."""
    documents = list(manifests)
    roles = {(doc['kind'], _meta(doc).get('namespace', ''), _meta(doc)['name']): doc for doc in documents
             if doc.get('kind') in ('Role', 'ClusterRole')}
    grants = []
    for binding in documents:
        if binding.get('kind') not in ('RoleBinding', 'ClusterRoleBinding'):
            continue
        if not _binds(binding, namespace=namespace, service_account=service_account):
            continue
        where = _meta(binding).get('namespace', '') if binding['kind'] == 'RoleBinding' else ''
        ref = binding['roleRef']
        role = roles.get((ref['kind'], where if ref['kind'] == 'Role' else '', ref['name']))
        if role is not None:
            rules = tuple(Rule.from_wire(raw) for raw in role.get('rules') or ())
            grants.append(Grant(role=f'{ref["kind"]}/{ref["name"]}', namespace=where, rules=rules))
    return grants


def _binds(binding: Mapping[str, Any], *, namespace: str, service_account: str) -> bool:
    return any(subject.get('kind') == 'ServiceAccount' and subject.get('name') == service_account
               and subject.get('namespace') == namespace for subject in binding.get('subjects') or ())


def _meta(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = doc.get('metadata') or {}
    return meta


def allowed(grants: Iterable[Grant], access: Access) -> bool:
    return any(grant.allows(access) for grant in grants)


def denied(grants: Sequence[Grant], accesses: Iterable[Access]) -> list[Access]:
    """The accesses no grant allows (the roles are not enough for them)."""
    return sorted({access for access in accesses if not allowed(grants, access)})


def unused(grants: Sequence[Grant], accesses: Iterable[Access]) -> list[str]:
    """Every rule element (one verb on one resource of one group, or one URL) that no access needed,
    as 'Role/name: verb resource in API group "g"'. The same Role rendered into several namespaces
    counts as one: an element is used if it is used in any of them."""
    seen = list(accesses)
    used: set[tuple[str, Rule]] = set()
    elements: dict[tuple[str, Rule], None] = {}
    for grant in grants:
        relevant = [access for access in seen if grant.applies_to(access)]
        for rule in grant.rules:
            for element in rule.elements():
                elements[(grant.role, element)] = None
                if any(element.allows(access) for access in relevant):
                    used.add((grant.role, element))
    return [f'{role}: {element}' for role, element in elements if (role, element) not in used]


def wildcards(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every '*' in any Role's or ClusterRole's rules, as 'Kind/name rules[i].field'."""
    found = []
    for doc in manifests:
        if doc.get('kind') not in ('Role', 'ClusterRole'):
            continue
        for index, rule in enumerate(doc.get('rules') or ()):
            for field in _RULE_FIELDS:
                if any(WILDCARD in str(value) for value in rule.get(field) or ()):
                    found.append(f'{doc["kind"]}/{_meta(doc).get("name")} rules[{index}].{field}')
    return found
