"""The HTTPS transport under `alexa_api.TimeoutApiClient`, on requests: imported on the first
Alexa API call, so that a request which makes none never loads requests at all.

Every call ends by its deadline, connect to last body byte: requests only bounds each socket
read, so a reply trickling in a byte at a time would never time out; `DeadlineSocket` gives
every read just what is left instead. Messages name the failure, never the URL (it holds ids).
"""
from __future__ import annotations

import functools
import json
from typing import Any, cast

import requests
import requests.adapters
import urllib3.connection
from ask_sdk_core.api_client import DefaultApiClient
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClientRequest, ApiClientResponse

from skill.alexa_api import DeadlinePassed
from skill.deadline import Deadline, DeadlineSocket

# The SDK's own conversions between its header tuples and requests' header mappings.
_HEADERS = DefaultApiClient()


def send(request: ApiClientRequest, deadline: Deadline, verify: bool | str) -> ApiClientResponse:
    """`verify` is requests' own: True trusts the default store, a path only that bundle."""
    headers = _HEADERS._convert_list_tuples_to_dict(headers_list=request.headers)
    data = request.body or None
    if data and "json" in (headers.get("Content-type") or ""):
        data = json.dumps(data)
    left = deadline.remaining()
    if left <= 0:
        raise DeadlinePassed("no time left to make the call")
    try:
        with requests.Session() as session:
            session.mount("https://", _DeadlineAdapter(deadline))
            reply = session.request(request.method or "GET", request.url, headers=headers, data=data,
                                    timeout=left, verify=verify)
            return ApiClientResponse(headers=_HEADERS._convert_dict_to_list_tuples(reply.headers),
                                     status_code=reply.status_code, body=reply.text)
    except requests.RequestException as error:
        if deadline.remaining() <= 0:
            raise DeadlinePassed("timed out: the whole reply did not arrive in time") from error
        raise ApiClientException(_root_cause(error)) from error


def _root_cause(error: BaseException) -> str:
    """The first failure under requests' and urllib3's wrappers, whose messages quote the URL (and its ids)."""
    while (error.__cause__ or error.__context__) is not None:
        error = cast(BaseException, error.__cause__ or error.__context__)
    return f"{type(error).__name__}: {error}"


class _DeadlineConnection(urllib3.connection.HTTPSConnection):
    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self.sock = cast(Any, DeadlineSocket(self.sock, self._deadline))


class _DeadlinePool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineConnection


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, deadline: Deadline):
        self._deadline = deadline  # before super().__init__, which builds the pool manager
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pools = self.poolmanager.pool_classes_by_scheme
        self.poolmanager.pool_classes_by_scheme = {**pools,
                                                   "https": functools.partial(_DeadlinePool, deadline=self._deadline)}
