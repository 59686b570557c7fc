"""How `dtk-operator` logs: `-v` is debug for the operator and kopf, never for the client libraries.

The kubernetes client logs every response body at debug level (a credentials Secret's data
included) and botocore logs request headers and signing details (the access key id, the session
token). Those loggers stay at INFO whatever the verbosity, so no secret reaches a log (SPEC 7).
"""

from __future__ import annotations

import logging

# Libraries whose debug output carries what they send and receive.
QUIET_LIBRARIES = ("kubernetes", "urllib3", "botocore", "boto3", "s3transfer")


def configure(*, verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)
