"""The plugin reads kubeconfigs as kubectl does: files, merging, contexts, relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubectl_dtk.api.kubeconfig import KubeconfigError, load_connection
from kubectl_dtk.api.transport import StdTransport


def write(path: Path, *, context: str, cluster: str, server: str, user: dict[str, object],
          namespace: str | None = None) -> Path:
    ctx: dict[str, object] = {"cluster": cluster, "user": f"{cluster}-user"}
    if namespace:
        ctx["namespace"] = namespace
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority": "ca.pem"}}],
        "users": [{"name": f"{cluster}-user", "user": user}],
        "contexts": [{"name": context, "context": ctx}],
    }))
    return path


def test_explicit_file_current_context_and_namespace(tmp_path: Path) -> None:
    config = write(tmp_path / "a", context="dev", cluster="c1", server="https://api.example:6443",
                   user={"token": "t"}, namespace="team-a")
    connection = load_connection(str(config))
    assert connection.server == "https://api.example:6443"
    assert (connection.namespace, connection.context) == ("team-a", "dev")
    assert connection.base_dir == tmp_path  # so ca.pem is found next to its kubeconfig


def test_kubeconfig_env_lists_files_merged_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(tmp_path / "first", context="one", cluster="c1", server="https://one", user={"token": "1"})
    second = write(tmp_path / "second", context="two", cluster="c2", server="https://two", user={"token": "2"})
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing'}:{second}")
    assert load_connection().server == "https://one"  # the first file's current-context
    chosen = load_connection(context="two")
    assert (chosen.server, chosen.namespace, chosen.user) == ("https://two", "default", {"token": "2"})


def test_unknown_context_is_a_clear_error(tmp_path: Path) -> None:
    config = write(tmp_path / "a", context="dev", cluster="c1", server="https://x", user={})
    with pytest.raises(KubeconfigError, match='context "prod" not found'):
        load_connection(str(config), "prod")


def test_credential_plugins_go_to_pykube(tmp_path: Path) -> None:
    plugin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws"}}
    exec_user = load_connection(str(write(tmp_path / "e", context="e", cluster="c", server="https://x", user=plugin)))
    assert not StdTransport.supports(exec_user)
    token_user = load_connection(str(write(tmp_path / "t", context="t", cluster="c", server="http://x",
                                           user={"token": "abc"})))
    assert StdTransport.supports(token_user)


def test_a_problem_names_the_file_that_holds_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(tmp_path / "first", context="one", cluster="c1", server="https://one", user={"token": "1"})
    second = tmp_path / "second"
    second.write_text(yaml.safe_dump({"clusters": [{"name": "c2", "cluster": {}}],
                                      "contexts": [{"name": "two", "context": {"cluster": "c2"}}]}))
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    with pytest.raises(KubeconfigError, match=f'^{second}: cluster "c2" has no server$'):
        load_connection(context="two")
    with pytest.raises(KubeconfigError, match=f'^{first}, {second}: context "three" not found$'):
        load_connection(context="three")
