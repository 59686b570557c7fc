"""
A kubeconfig for the emulator, accepted by kubectl, the kubernetes client, kopf and pykube.

The token is a dummy: the emulator does no authentication, but some clients insist on having
some credentials before they send a request.
"""
import os
import pathlib
import tempfile

import yaml

DEFAULT_NAME = 'dtk-sandbox'
DUMMY_TOKEN = 'dtk-sandbox-token'  # not a secret: the emulator accepts any request


def kubeconfig(url: str, namespace: str = 'default', *, name: str = DEFAULT_NAME) -> dict[str, object]:
    cluster: dict[str, object] = {'server': url}
    if url.startswith('https://'):
        cluster['insecure-skip-tls-verify'] = True
    return {
        'apiVersion': 'v1',
        'kind': 'Config',
        'preferences': {},
        'clusters': [{'name': name, 'cluster': cluster}],
        'users': [{'name': name, 'user': {'token': DUMMY_TOKEN}}],
        'contexts': [{'name': name, 'context': {'cluster': name, 'user': name, 'namespace': namespace}}],
        'current-context': name,
    }


def write_kubeconfig(path: str | pathlib.Path, url: str, namespace: str = 'default', *,
                     name: str = DEFAULT_NAME) -> pathlib.Path:
    """Write atomically (a reader never sees half a file), readable by the owner only (as kubectl does)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig(url, namespace, name=name), sort_keys=False)
    with tempfile.NamedTemporaryFile('w', dir=path.parent, prefix=f'.{path.name}.', delete=False) as file:
        file.write(text)
    os.chmod(file.name, 0o600)
    os.replace(file.name, path)
    return path
