"""
The served resources: the built-in ones and those that CRDs declare, added and removed at runtime.
"""
from collections.abc import Iterable

from dtk_sandbox.kubeapi.specs import ResourceSpec, StorageKey

SpecKey = tuple[str, str, str]  # (group, version, plural)


class Registry:
    def __init__(self, specs: Iterable[ResourceSpec] = ()) -> None:
        self._specs: dict[SpecKey, ResourceSpec] = {}
        self._by_crd: dict[str, list[ResourceSpec]] = {}  # CRD name -> the specs it declared
        for spec in specs:
            self.add(spec)

    def add(self, spec: ResourceSpec) -> None:
        self._specs[(spec.group, spec.version, spec.plural)] = spec

    def find(self, group: str, version: str, plural: str) -> ResourceSpec | None:
        return self._specs.get((group, version, plural))

    def preferred(self, key: StorageKey) -> ResourceSpec | None:
        """The spec whose version is used when one resource is addressed regardless of version."""
        candidates = [spec for spec in self._specs.values() if spec.storage_key == key]
        candidates.sort(key=lambda spec: not spec.preferred)
        return candidates[0] if candidates else None

    def all(self) -> list[ResourceSpec]:
        return list(self._specs.values())

    def groups(self) -> dict[str, list[str]]:
        """Non-core groups and their versions, the preferred version first (as discovery lists them)."""
        result: dict[str, list[str]] = {}
        for spec in sorted(self._specs.values(), key=lambda spec: not spec.preferred):
            if spec.group:
                versions = result.setdefault(spec.group, [])
                if spec.version not in versions:
                    versions.append(spec.version)
        return result

    def in_group_version(self, group: str, version: str) -> list[ResourceSpec]:
        return [spec for spec in self._specs.values() if spec.group == group and spec.version == version]

    def set_crd(self, crd_name: str, specs: list[ResourceSpec]) -> list[ResourceSpec]:
        """Replace what one CRD declares; returns the specs that are no longer served."""
        old = self._by_crd.pop(crd_name, [])
        for spec in old:
            self._specs.pop((spec.group, spec.version, spec.plural), None)
        for spec in specs:
            self.add(spec)
        if specs:
            self._by_crd[crd_name] = specs
        kept = {(spec.group, spec.version, spec.plural) for spec in specs}
        return [spec for spec in old if (spec.group, spec.version, spec.plural) not in kept]
