"""Panther web-proxy Lambda: forward one backend API call to the China bridge.

Shipped as a release asset of the `panther-web-proxy` pack (zipped as `web_proxy.py`,
handler `web_proxy.handler`, Python 3 runtime; standard library and boto3 only, both in
the Lambda runtime).  In the web half of Panther's China split, each backend API function
that AppSync or the custom-resource function invokes by name (`panther-alerts-api`, ...)
is this code under that name.  It

1. reads the secret named by `SECRET_ID` (JSON with `URL`, the bridge's stage URL ending
   in `/prod`, and `API_KEY`), and keeps it for `SECRET_MAX_AGE_SECONDS`;
2. POSTs the event it received, as JSON, to `{URL}/cn/{FUNCTION}` with header `x-api-key`,
   waiting at most `BRIDGE_TIMEOUT_SECONDS`;
3. returns the decoded JSON answer.

A 403 usually means the key was rotated by a China upgrade: the secret is read again and,
if it changed, the call is tried once more.  Every failure (HTTP error, timeout, a
backend function error passed through as `{"errorMessage": ...}`, a body that is not
JSON) raises `BridgeError` naming the function, so AppSync reports an error instead of
empty data.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_TIMEOUT_SECONDS = 25.0  # API Gateway ends an integration after 29 s
DEFAULT_SECRET_MAX_AGE_SECONDS = 300.0
_LAMBDA_ERROR_KEYS = frozenset({"errorMessage", "errorType", "stackTrace", "trace", "cause"})


class BridgeError(Exception):
    """The China backend could not answer; the message names the function."""


class SecretReader(Protocol):
    """What the proxy needs of a Secrets Manager client."""

    def get_secret_value(self, *, SecretId: str) -> Any: ...


@dataclass(frozen=True)
class BridgeSecret:
    """The bridge's stage URL and API key, as stored by `panther_cn_transform connect`."""

    url: str
    api_key: str


class Forwarder:
    """Forwards payloads to the bridge, caching the secret between invocations.

    **Parameters:**

    * **secret_id** - the Secrets Manager secret holding `URL` and `API_KEY`.
    * **secrets** - a Secrets Manager client (boto3's, made on first use by `handler`).
    * **timeout** - seconds to wait for the bridge (connect and each read).
    * **max_age** - seconds a read secret is trusted before it is read again.
    """

    def __init__(self, secret_id: str, secrets: SecretReader, *, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 max_age: float = DEFAULT_SECRET_MAX_AGE_SECONDS) -> None:
        self.secret_id = secret_id
        self.secrets = secrets
        self.timeout = timeout
        self.max_age = max_age
        self._secret: BridgeSecret | None = None
        self._read_at = 0.0

    def secret(self, *, refresh: bool = False) -> BridgeSecret:
        """The bridge secret, read again when asked to or when older than `max_age`."""
        if refresh or self._secret is None or time.monotonic() - self._read_at > self.max_age:
            self._secret = self._read_secret()
            self._read_at = time.monotonic()
        return self._secret

    def forward(self, function: str, payload: Any) -> Any:
        """POST `payload` to the bridge for `function`; its decoded answer, or `BridgeError`."""
        body = json.dumps(payload).encode("utf-8")
        used = self.secret()
        status, answer = self._post(function, used, body)
        if status == 403:
            fresh = self.secret(refresh=True)
            if fresh != used:  # the key (or URL) was rotated: one more try with the new one
                status, answer = self._post(function, fresh, body)
        if status != 200:
            raise BridgeError(f"{function}: the China bridge answered HTTP {status}: {_excerpt(answer)}")
        try:
            result = json.loads(answer) if answer.strip() else None
        except ValueError:
            raise BridgeError(f"{function}: the China bridge answered with a body that is not JSON: {_excerpt(answer)}") from None
        if isinstance(result, dict) and "errorMessage" in result and set(result) <= _LAMBDA_ERROR_KEYS:
            kind = f" ({result['errorType']})" if result.get("errorType") else ""
            raise BridgeError(f"{function}: the China backend failed{kind}: {result['errorMessage']}")
        return result

    def _read_secret(self) -> BridgeSecret:
        try:
            text = self.secrets.get_secret_value(SecretId=self.secret_id)["SecretString"]
            data = json.loads(text)
            return BridgeSecret(str(data["URL"]).rstrip("/"), str(data["API_KEY"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BridgeError(f"secret {self.secret_id} must be JSON with URL and API_KEY ({type(exc).__name__}: {exc})") from None

    def _post(self, function: str, secret: BridgeSecret, body: bytes) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{secret.url}/cn/{function}", data=body, method="POST",
            headers={"x-api-key": secret.api_key, "content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode("utf-8", "replace")
        except TimeoutError:
            raise BridgeError(f"{function}: the China bridge did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise BridgeError(f"{function}: the China bridge did not answer within {self.timeout:g} s") from None
            raise BridgeError(f"{function}: cannot reach the China bridge at {secret.url}: {exc.reason}") from None


def _excerpt(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


_forwarder: Forwarder | None = None


def handler(event: Any, context: Any) -> Any:
    """Lambda entry point: forward `event` to the function named by `FUNCTION`."""
    global _forwarder
    if _forwarder is None:
        import boto3

        _forwarder = Forwarder(
            os.environ["SECRET_ID"], boto3.client("secretsmanager"),
            timeout=float(os.environ.get("BRIDGE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)),
            max_age=float(os.environ.get("SECRET_MAX_AGE_SECONDS", DEFAULT_SECRET_MAX_AGE_SECONDS)),
        )
    return _forwarder.forward(os.environ["FUNCTION"], event)
