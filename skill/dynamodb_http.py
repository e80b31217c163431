"""A DynamoDB client for the four calls the store makes, over the standard library's HTTP.

Why not botocore: importing it and building its client is about 150 ms of a Lambda cold start,
more than the rest of the skill's start-up together, and a cold start is paid by a runner
waiting for an answer. The store needs only GetItem, PutItem, DeleteItem and (for a local
endpoint) CreateTable, in DynamoDB's JSON protocol, signed with AWS Signature Version 4.

It is used when the credentials are in the environment, as Lambda always provides them
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Anywhere else (an instance
profile, ~/.aws, SSO) the store uses botocore and its full credential chain.
tests/test_dynamodb_http.py checks the signature against botocore's signer.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
# Errors worth one more attempt: DynamoDB asks for it (throttling) or never answered (5xx).
RETRYABLE_CODES = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException",
                             "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable",
                             "ConnectionError", "ReadTimeout"})


class DynamoDbError(Exception):
    """A call that failed: DynamoDB's error code (or the transport's failure) and its message."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Credentials | None":
        """Lambda's credentials, or None where they are not in the environment."""
        access_key, secret_key = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if not access_key or not secret_key:
            return None
        return cls(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sign(credentials: Credentials, region: str, host: str, target: str, body: bytes,
         now: dt.datetime) -> dict[str, str]:
    """The headers of a SigV4-signed DynamoDB JSON request: POST to "/" with no query."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"content-type": CONTENT_TYPE, "host": host, "x-amz-date": amz_date, "x-amz-target": target}
    if credentials.session_token:
        headers["x-amz-security-token"] = credentials.session_token
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", "", *(f"{name}:{headers[name]}" for name in names), "",
                           ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), day), region), SERVICE), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return headers


class DynamoDbHttpClient:
    """get_item, put_item, delete_item and create_table with botocore's names and JSON shapes, so
    the store's code is the same on either client. One keep-alive connection; not thread-safe
    (the store holds a lock around it)."""

    def __init__(self, credentials: Credentials, region: str, endpoint_url: str | None, *,
                 timeout: float, attempts: int):
        url = urlsplit(endpoint_url or f"https://{SERVICE}.{region}.amazonaws.com")
        self._https = url.scheme == "https"
        self._host = url.netloc
        self._credentials, self._region = credentials, region
        self._timeout, self._attempts = timeout, attempts
        self._connection: http.client.HTTPConnection | None = None

    def get_item(self, **request: Any) -> dict[str, Any]:
        return self._call("GetItem", request)

    def put_item(self, **request: Any) -> dict[str, Any]:
        return self._call("PutItem", request)

    def delete_item(self, **request: Any) -> dict[str, Any]:
        return self._call("DeleteItem", request)

    def create_table(self, **request: Any) -> dict[str, Any]:
        return self._call("CreateTable", request)

    def _call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(request, separators=(",", ":")).encode("utf-8")
        attempt = 1
        while True:
            try:
                return self._send(operation, body)
            except DynamoDbError as error:
                if attempt >= self._attempts or error.code not in RETRYABLE_CODES:
                    raise
            time.sleep(0.02 * attempt)
            attempt += 1

    def _send(self, operation: str, body: bytes) -> dict[str, Any]:
        headers = sign(self._credentials, self._region, self._host, TARGET_PREFIX + operation, body,
                       dt.datetime.now(dt.timezone.utc))
        try:
            connection = self._open()
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()   # a half-used keep-alive connection is not used again
            if isinstance(error, socket.timeout):
                raise DynamoDbError("ReadTimeout", f"no answer within the {self._timeout} s timeout") from None
            raise DynamoDbError("ConnectionError", type(error).__name__) from None
        if response.status >= 500:
            raise DynamoDbError("ServiceUnavailable", f"HTTP {response.status}")
        try:
            answer = json.loads(payload or b"{}")
        except ValueError:
            raise DynamoDbError("MalformedResponse", f"HTTP {response.status}") from None
        if response.status != 200:
            kind = str(answer.get("__type", "")).rpartition("#")[2] or f"HTTP{response.status}"
            raise DynamoDbError(kind, str(answer.get("message") or answer.get("Message") or ""))
        return answer

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
