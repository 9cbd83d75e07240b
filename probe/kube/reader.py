"""Reads for the inventory through one ApiClient: every answer a wire dict, every failure
an `ApiProblem` value (nothing here raises for what the cluster or the network does).

Typed client calls, paged with limit/continue, each object turned into its camelCase wire
dict by `sanitize_for_serialization` (version-proof: the client renamed model attributes
in v36).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

from probe.kube.errors import ApiProblem, Read, api_errors, problem_from_exception

Obj = dict[str, Any]
Result = Union[list[Obj], ApiProblem]  # noqa: UP007 - readable on 3.10 at runtime


class ApiReader:
    """Reads through one ApiClient with one timeout; results are wire dicts or a problem."""

    def __init__(self, api_client: Any, timeout: float, page_size: int) -> None:
        self._api = api_client
        self._timeout = timeout
        self._page_size = page_size

    def call(
        self, read: Read, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Obj | ApiProblem:
        """One typed call; the answer as a wire dict."""
        try:
            answer = fn(*args, _request_timeout=self._timeout, **kwargs)
            return self._api.sanitize_for_serialization(answer)
        except api_errors() as exc:
            return problem_from_exception(read, exc)

    def list_all(self, read: Read, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Result:
        """Every item of a list call, page by page (limit/continue), never one call per object."""
        items: list[Obj] = []
        token: str | None = None
        while True:
            page = self.call(read, fn, *args, limit=self._page_size, _continue=token, **kwargs)
            if isinstance(page, ApiProblem):
                return page
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return items

    def list_raw(self, read: Read, path: str) -> Result:
        """A paged list of a path the typed client has no method for, via the generic call_api."""
        items: list[Obj] = []
        token: str | None = None
        while True:
            query: list[tuple[str, Any]] = [("limit", self._page_size)]
            if token:
                query.append(("continue", token))
            try:
                request = self._api.param_serialize(
                    method="GET",
                    resource_path=path,
                    query_params=query,
                    header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"],
                )
                response = self._api.call_api(*request, _request_timeout=self._timeout)
                response.read()
                page = self._api.response_deserialize(response, {"200": "object"}).data
            except api_errors() as exc:
                return problem_from_exception(read, exc)
            if not isinstance(page, dict):
                return problem_from_exception(
                    read, ValueError(f"{path} answered {type(page).__name__}")
                )
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return items
