"""The standard-library transport over real TLS: a CA from the kubeconfig, client certificates,
bearer tokens, and a refusal when the server's certificate is not trusted."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubectl_dtk.api.kubeconfig import Connection
from kubectl_dtk.api.transport import StdTransport


def _certificate(name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None, *,
                 ca: bool = False) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer[0].subject if issuer else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = path.with_suffix(".crt"), path.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        peer = self.connection.getpeercert()  # type: ignore[attr-defined]
        subject = dict(x[0] for x in peer["subject"]) if peer else {}
        body = json.dumps({"path": self.path, "auth": self.headers.get("Authorization", ""),
                           "client": subject.get("commonName", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca = _certificate("test-ca", None, ca=True)
    ca_crt, _ = _write(tmp_path / "ca", *ca)
    server_crt, server_key = _write(tmp_path / "server", *_certificate("localhost", ca))
    client_crt, client_key = _write(tmp_path / "client", *_certificate("dtk-user", ca))
    return {"ca": ca_crt, "server_crt": server_crt, "server_key": server_key,
            "client_crt": client_crt, "client_key": client_key}


@pytest.fixture
def server(pki: dict[str, Path]) -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Echo)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki["ca"]))
    context.load_cert_chain(pki["server_crt"], pki["server_key"])
    context.verify_mode = ssl.CERT_OPTIONAL
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _get(connection: Connection) -> dict[str, str]:
    response = StdTransport(connection).request("get", "/apis/x", params={"a": "1"}, body=None,
                                                content_type="", timeout=5)
    assert response.status_code == 200
    answer: dict[str, str] = response.json()
    return answer


def test_ca_file_client_certificate_and_token(server: str, pki: dict[str, Path]) -> None:
    connection = Connection(server=server, base_dir=pki["ca"].parent,
                            cluster={"certificate-authority": pki["ca"].name},
                            user={"client-certificate": str(pki["client_crt"]),
                                  "client-key": str(pki["client_key"]), "token": "s3cret"})
    answer = _get(connection)
    assert answer == {"path": "/apis/x?a=1", "auth": "Bearer s3cret", "client": "dtk-user"}


def test_inline_certificate_data(server: str, pki: dict[str, Path]) -> None:
    import base64

    data = base64.b64encode(pki["ca"].read_bytes()).decode()
    assert _get(Connection(server=server, cluster={"certificate-authority-data": data}))["client"] == ""


def test_an_untrusted_server_is_refused_unless_told_to_skip(server: str) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(Connection(server=server))
    assert _get(Connection(server=server, cluster={"insecure-skip-tls-verify": True}))["path"] == "/apis/x?a=1"
