"""The standard-library DynamoDB client the store uses on Lambda: signed as botocore signs, and
talking to a real DynamoDB-compatible server (moto) through the store's contract tests
(tests/test_persistence.py runs every store test on it, since the test environment has credentials)."""
from __future__ import annotations

import datetime as dt
import json
import socket
import threading

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from skill.dynamodb_http import Credentials, DynamoDbError, DynamoDbHttpClient, sign

NOW = dt.datetime(2026, 12, 3, 14, 5, 6, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("token", ["session-token", None])
def test_the_signature_is_the_one_botocore_makes(token):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    body = json.dumps({"TableName": "prefs", "Key": {"id": {"S": "u1"}}}).encode()
    ours = sign(credentials, "eu-west-1", "dynamodb.eu-west-1.amazonaws.com", "DynamoDB_20120810.GetItem", body, NOW)

    request = AWSRequest(method="POST", url="https://dynamodb.eu-west-1.amazonaws.com/", data=body,
                         headers={name: value for name, value in ours.items()
                                  if name in ("content-type", "x-amz-target", "host")})
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    auth = SigV4Auth(BotocoreCredentials("AKIDEXAMPLE", credentials.secret_key, token), "dynamodb", "eu-west-1")
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    if token:
        request.headers["X-Amz-Security-Token"] = token
    canonical = auth.canonical_request(request)
    theirs = auth.signature(auth.string_to_sign(request, canonical), request)
    assert ours["authorization"].endswith(f"Signature={theirs}")
    assert f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}" in ours["authorization"]


def test_credentials_come_only_from_the_environment():
    assert Credentials.from_environment({}) is None
    assert Credentials.from_environment({"AWS_ACCESS_KEY_ID": "a"}) is None
    assert Credentials.from_environment({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}) == \
        Credentials("a", "b", None)


def _server(answer: bytes, status: int = 200, *, times: int = 1) -> tuple[str, list[bytes]]:
    """A one-connection HTTP server that answers every request with `answer`, and records them."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, listener, connection.makefile("rb") as incoming:
            for _ in range(times):
                head = b"".join(iter(incoming.readline, b"\r\n"))
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                seen.append(head + incoming.read(length))
                connection.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.0\r\n"
                                   b"Content-Length: %d\r\n\r\n%s" % (status, len(answer), answer))
    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", seen


def test_dynamodbs_error_is_raised_with_its_code():
    url, _ = _server(b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no"}', 400)
    client = DynamoDbHttpClient(Credentials("a", "b", None), "us-east-1", url, timeout=1, attempts=2)
    with pytest.raises(DynamoDbError) as raised:
        client.get_item(TableName="t", Key={})
    assert raised.value.code == "ResourceNotFoundException"


def test_throttling_is_tried_once_more_on_the_same_connection():
    url, seen = _server(b'{"__type":"x#ThrottlingException","message":"slow down"}', 400, times=2)
    client = DynamoDbHttpClient(Credentials("a", "b", None), "us-east-1", url, timeout=1, attempts=2)
    with pytest.raises(DynamoDbError, match="ThrottlingException"):
        client.put_item(TableName="t", Item={})
    assert len(seen) == 2 and all(b"x-amz-target: dynamodb_20120810.putitem" in request.lower() for request in seen)


def test_a_server_that_never_answers_fails_within_the_timeout():
    listener = socket.create_server(("127.0.0.1", 0))   # accepts (the backlog) and never speaks
    client = DynamoDbHttpClient(Credentials("a", "b", None), "us-east-1",
                                f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.2, attempts=2)
    started = dt.datetime.now()
    with pytest.raises(DynamoDbError, match="ReadTimeout"), listener:
        client.get_item(TableName="t", Key={})
    assert (dt.datetime.now() - started).total_seconds() < 1.5
