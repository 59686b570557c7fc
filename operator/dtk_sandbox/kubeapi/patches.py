"""
Merge patches: RFC 7386, and an approximation of strategic merge patch (for built-in kinds
only, as on a real server). JSON patch (RFC 6902) is in :mod:`jsonpatch`.

Both functions are pure: they return a new document and never modify their arguments. The
result shares unchanged subtrees with the target, which is safe because stored objects are
never modified in place.
"""
import copy
from typing import Any

JSON_PATCH = 'application/json-patch+json'
MERGE_PATCH = 'application/merge-patch+json'
STRATEGIC_PATCH = 'application/strategic-merge-patch+json'
APPLY_PATCH = 'application/apply-patch+yaml'  # server-side apply: named in refusals, not served
CUSTOM_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)
BUILTIN_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

# Lists that strategic merge merges item by item instead of replacing; the merge key of each.
# These are the fields of the built-in kinds the emulator serves (ObjectMeta) plus the common
# pod-template lists, so that a patch of a Deployment-like body behaves plausibly.
_MERGE_KEYS = {
    'ownerReferences': 'uid', 'conditions': 'type', 'containers': 'name', 'initContainers': 'name',
    'env': 'name', 'volumes': 'name', 'volumeMounts': 'mountPath', 'ports': 'containerPort',
    'imagePullSecrets': 'name',
}
_MERGED_PRIMITIVE_LISTS = {'finalizers'}


def merge_patch(target: Any, patch: Any) -> Any:
    """
    RFC 7386 as kube-apiserver applies it (evanphx/json-patch MergePatch): dicts merge
    recursively, null deletes a key, anything else replaces; and a value that replaces is stored
    without the nulls of its objects, even inside lists (so ``[{"a": null}]`` stores ``[{}]``).
    """
    if not isinstance(patch, dict):
        # A dict replaced by a non-dict is the one case the library does not prune.
        return copy.deepcopy(patch) if isinstance(target, dict) else without_nulls(patch)
    if not isinstance(target, dict):
        return without_nulls(patch)
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif result.get(key) is None:
            result[key] = without_nulls(value)
        else:
            result[key] = merge_patch(result[key], value)
    return result


def without_nulls(value: Any) -> Any:
    """A copy without null object members at any depth; null list items stay (pruneNulls)."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [None if item is None else without_nulls(item) for item in value]
    return value


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge patch, plus lists merged by key and the ``$patch``, ``$retainKeys`` and ``$deleteFrom...`` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get('$patch') == 'replace':
        return {key: copy.deepcopy(value) for key, value in patch.items() if not key.startswith('$')}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith('$'):
            continue  # directives are applied below; $setElementOrder only orders, which we skip
        if value is None or (isinstance(value, dict) and value.get('$patch') == 'delete'):
            result.pop(key, None)
        elif isinstance(value, list) and key in _MERGE_KEYS:
            result[key] = _merge_by_key(result.get(key) or [], value, _MERGE_KEYS[key])
        elif isinstance(value, list) and key in _MERGED_PRIMITIVE_LISTS:
            old = list(result.get(key) or [])
            result[key] = old + [item for item in value if item not in old]
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    for key, value in patch.items():
        if key.startswith('$deleteFromPrimitiveList/'):
            field = key.split('/', 1)[1]
            result[field] = [item for item in result.get(field) or [] if item not in value]
    if isinstance(patch.get('$retainKeys'), list):
        result = {key: value for key, value in result.items() if key in patch['$retainKeys']}
    return result


def _merge_by_key(old: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    if any(isinstance(item, dict) and item.get('$patch') == 'replace' for item in patch):
        return [copy.deepcopy(item) for item in patch if not (isinstance(item, dict) and '$patch' in item)]
    result = list(old)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            result.append(copy.deepcopy(item))
            continue
        same_key = (i for i, old_item in enumerate(result)
                    if isinstance(old_item, dict) and old_item.get(merge_key) == item[merge_key])
        index = next(same_key, None)
        if item.get('$patch') == 'delete':
            result = [o for i, o in enumerate(result) if i != index]
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result
