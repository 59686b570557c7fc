"""HTTP to the API server. The common cases (a token, basic auth, client certificates: what
kubeadm, kind, k3s and our sandbox write) go through the standard library, so `kubectl dtk`
starts fast; `exec` and `auth-provider` users go through pykube's client, which runs the
credential plugins and refreshes tokens. Importing requests alone costs more than the rest of
the plugin, which is why the standard library path exists."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

from kubectl_dtk.api.kubeconfig import Connection

if TYPE_CHECKING:
    import ssl

USER_AGENT = "kubectl-dtk"


class Response(Protocol):
    status_code: int

    def json(self) -> Any: ...

    @property
    def text(self) -> str: ...

    def iter_lines(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class StdResponse:
    def __init__(self, raw: http.client.HTTPResponse, connection: http.client.HTTPConnection) -> None:
        self.status_code = raw.status
        self._raw, self._connection = raw, connection
        self._content: bytes | None = None

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self._raw.read()
            self._connection.close()
        return self._content

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def iter_lines(self) -> Iterator[bytes]:
        try:
            while line := self._raw.readline():
                yield line.rstrip(b"\r\n")
        finally:
            self._connection.close()

    def close(self) -> None:
        self._connection.close()


def _file_or_data(connection: Connection, section: Mapping[str, Any], key: str) -> str | None:
    """A path to the PEM the kubeconfig names, or to a private temporary copy of its inline `-data`."""
    if key in section:
        return str(connection.base_dir / Path(str(section[key])).expanduser())
    if f"{key}-data" in section:
        import atexit
        import os
        import tempfile

        with tempfile.NamedTemporaryFile("wb", prefix="kubectl-dtk-", suffix=".pem", delete=False) as copy:
            copy.write(base64.b64decode(section[f"{key}-data"]))
        atexit.register(os.unlink, copy.name)
        return copy.name
    return None


class StdTransport:
    def __init__(self, connection: Connection) -> None:
        user = connection.user
        url = urlsplit(connection.server)
        self._https = url.scheme == "https"
        self._host, self._port, self._base = url.hostname or "localhost", url.port, url.path.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        token = user.get("token") or (Path(user["tokenFile"]).read_text().strip() if user.get("tokenFile") else "")
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif user.get("username"):
            pair = f"{user['username']}:{user.get('password', '')}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        self._ssl = self._ssl_context(connection) if self._https else None

    @staticmethod
    def supports(connection: Connection) -> bool:
        return not ({"exec", "auth-provider"} & set(connection.user))

    @staticmethod
    def _ssl_context(connection: Connection) -> ssl.SSLContext:
        import ssl  # only for https: plain-http sandboxes skip its import

        cluster, user = connection.cluster, connection.user
        context = ssl.create_default_context(cafile=_file_or_data(connection, cluster, "certificate-authority"))
        if cluster.get("insecure-skip-tls-verify"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        cert = _file_or_data(connection, user, "client-certificate")
        if cert:
            context.load_cert_chain(cert, _file_or_data(connection, user, "client-key"))
        return context

    def request(self, method: str, path: str, *, params: Mapping[str, str], body: str | None,
                content_type: str, timeout: float) -> StdResponse:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._ssl)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = content_type
        query = f"?{urlencode(params)}" if params else ""
        connection.request(method.upper(), f"{self._base}{path}{query}", body=body, headers=headers)
        return StdResponse(connection.getresponse(), connection)


class PykubeTransport:
    """For credential plugins and auth providers: pykube (and requests) do the work."""

    def __init__(self, connection: Connection) -> None:
        import pykube

        config = pykube.KubeConfig.from_file(str(connection.files[0]))
        config.set_current_context(connection.context)
        self._api = pykube.HTTPClient(config)

    def request(self, method: str, path: str, *, params: Mapping[str, str], body: str | None,
                content_type: str, timeout: float) -> Response:
        kwargs: dict[str, Any] = {"url": self._api.url + path, "params": dict(params), "stream": True,
                                  "timeout": (5.0, timeout)}
        if body is not None:
            kwargs["data"] = body
            kwargs["headers"] = {"Content-Type": content_type}
        response: Response = getattr(self._api.session, method)(**kwargs)
        return response
