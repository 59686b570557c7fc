"""boto3 clients for one target: region, endpoint, credentials (Secret, default chain, AssumeRole).

Clients are built off the event loop (building one reads files and loads service models) and
cached by their settings. botocore's own retries are switched off: errors.call is the one retry
policy, so that every retry is counted and shown in the Task's messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.config import Config

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
ROLE_SESSION_NAME = "kube-dtk"


@dataclass(frozen=True)
class AwsSettings:
    region: str
    endpoint_url: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    session_token: str = ""
    role_arn: str = ""

    def key(self) -> str:
        """A cache key that holds no secret in clear."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def __repr__(self) -> str:  # never print credentials, even in a traceback or a debug log
        return f"AwsSettings(region={self.region!r}, endpoint_url={self.endpoint_url!r}, role_arn={self.role_arn!r})"


def _config() -> Config:
    return Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                  read_timeout=READ_TIMEOUT_SECONDS)


def _session(settings: AwsSettings) -> boto3.session.Session:
    if settings.access_key_id:
        return boto3.session.Session(aws_access_key_id=settings.access_key_id,
                                     aws_secret_access_key=settings.secret_access_key,
                                     aws_session_token=settings.session_token or None, region_name=settings.region)
    return boto3.session.Session(region_name=settings.region)  # default chain: env, IRSA, Pod Identity...


def _assumed(session: boto3.session.Session, settings: AwsSettings) -> boto3.session.Session:
    sts = session.client("sts", endpoint_url=settings.endpoint_url or None, config=_config())
    found = sts.assume_role(RoleArn=settings.role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
    return boto3.session.Session(aws_access_key_id=found["AccessKeyId"], aws_secret_access_key=found["SecretAccessKey"],
                                 aws_session_token=found["SessionToken"], region_name=settings.region)


def caller_account(settings: AwsSettings) -> str:
    """The AWS account the settings' credentials (and role, if any) act in: `sts:GetCallerIdentity`,
    which needs no permission, so it proves the credentials and the endpoint and nothing else.
    Blocking: call it through asyncio.to_thread. Raises botocore's errors (errors.classify maps them)."""
    session = _session(settings)
    if settings.role_arn:
        session = _assumed(session, settings)
    sts = session.client("sts", endpoint_url=settings.endpoint_url or None, config=_config())
    return str(sts.get_caller_identity()["Account"])


def _clients(settings: AwsSettings) -> tuple[Any, Any]:
    session = _session(settings)
    if settings.role_arn:
        session = _assumed(session, settings)
    endpoint = settings.endpoint_url or None
    return (session.client("ec2", endpoint_url=endpoint, config=_config()),
            session.client("ssm", endpoint_url=endpoint, config=_config()))


ASSUMED_ROLE_REUSE_SECONDS = 45 * 60  # STS credentials last an hour by default: renew well before


class ClientCache:
    """One (ec2, ssm) pair per distinct settings; AssumeRole credentials are renewed by rebuilding."""

    def __init__(self) -> None:
        self._clients: dict[str, tuple[float, tuple[Any, Any]]] = {}
        self._lock = asyncio.Lock()

    async def get(self, settings: AwsSettings) -> tuple[Any, Any]:
        async with self._lock:
            key, now = settings.key(), time.monotonic()
            made, clients = self._clients.get(key, (0.0, None))
            stale = settings.role_arn and now - made > ASSUMED_ROLE_REUSE_SECONDS
            if clients is None or stale:
                clients = await asyncio.to_thread(_clients, settings)
                self._clients[key] = (now, clients)
            return clients
