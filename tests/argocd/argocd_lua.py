"""Runs a health.lua the way Argo CD does, in a real Lua 5.1 (lupa's bundled one).

Argo CD (util/lua/lua.go) runs health scripts in gopher-lua, a Lua 5.1 implementation:
- `obj` is the object decoded from JSON by `decodeValue`: a map becomes a table with string keys;
  an array becomes a table filled by `LTable.Append` from index 1, which skips nil values (so a
  JSON null in an array does not leave a hole); a null map value sets nothing (the key reads nil);
  every number is an `LNumber` (a float64, like Lua 5.1's numbers); booleans and strings as such.
- a script from `argocd-cm` runs without the standard library (`SkipOpenLibs`): only the base
  functions, `table`, `package` and a reduced `os` are loaded, unless
  `resource.customizations.useOpenLibs.<group_kind>` is true; scripts built into Argo CD (the
  upstream `resource_customizations` folder) get the open libraries. `restricted=True` runs the
  first way (stricter still: `os` is not there either), `restricted=False` the second.
- the result is the value left on top of the stack, which must be a table; it is turned into JSON
  and read as `{status, message}`; a status outside Argo CD's set becomes `Unknown` with the
  message "Lua returned an invalid health status".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from lupa import lua51  # type: ignore[import-untyped]  # lupa ships no type hints

ARGOCD_DIR = Path(__file__).resolve().parents[2] / "helm" / "dtk-operator" / "argocd"
GROUP_DIR = ARGOCD_DIR / "dtk.io"
KINDS = ("ServiceInstance", "Task", "Assembly")
VALID_STATUSES = frozenset({"Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing"})
INVALID_STATUS_MESSAGE = "Lua returned an invalid health status"  # Argo CD's own words

# What a script from argocd-cm does not get. The string metatable goes too: without gopher-lua's
# string library, `("x"):len()` fails there, and it must fail here as well.
_RESTRICT = """
debug.setmetatable("", nil)
string, math, io, os, debug, coroutine, python = nil, nil, nil, nil, nil, nil, nil
"""


@dataclass(frozen=True)
class Health:
    status: str
    message: str


class _JsonLikeLoader(yaml.SafeLoader):
    """YAML read as sigs.k8s.io/yaml reads it for Argo CD's tests: through JSON, so a timestamp
    stays a string (PyYAML alone would make it a datetime)."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_JsonLikeLoader)


def load_yaml(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"))


def script_path(kind: str) -> Path:
    return GROUP_DIR / kind / "health.lua"


def decoded(value: Any) -> Any:
    """The object as Argo CD's decodeValue hands it to Lua (None means: Lua nil, nothing set)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)  # LNumber
    if isinstance(value, list):
        return [decoded(item) for item in value if item is not None]  # Append skips nil
    if isinstance(value, Mapping):
        return {str(key): decoded(item) for key, item in value.items() if item is not None}
    raise TypeError(f"not a JSON value: {value!r} ({type(value).__name__})")


def run_health(script: str, obj: Mapping[str, Any], *, restricted: bool = True) -> Health:
    """A fresh Lua state per call, as Argo CD makes one per evaluation."""
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False, unpack_returned_tuples=True)
    if restricted:
        lua.execute(_RESTRICT)
    lua.globals().obj = lua.table_from(decoded(obj), recursive=True)
    returned = lua.execute(script)
    result = returned[-1] if isinstance(returned, tuple) else returned
    if lua51.lua_type(result) != "table":
        raise TypeError(f"expect table output from Lua script, not {lua51.lua_type(result) or type(result)}")
    fields = dict(result.items())
    status, message = fields.get("status"), fields.get("message", "")
    if not isinstance(message, str):
        raise TypeError(f"message must be a string, got {message!r}")
    if status not in VALID_STATUSES:
        return Health("Unknown", INVALID_STATUS_MESSAGE)
    return Health(str(status), message)


def health_of(kind: str, obj: Mapping[str, Any], *, restricted: bool = True) -> Health:
    return run_health(script_path(kind).read_text(encoding="utf-8"), obj, restricted=restricted)
