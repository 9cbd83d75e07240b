"""Reads for the inventory through one ApiClient: every answer a wire dict, every failure
an `ApiProblem` value (nothing here raises for what the cluster or the network does).

Typed client calls, paged with limit/continue, each object turned into its camelCase wire
dict by `sanitize_for_serialization` (version-proof: the client renamed model attributes
in v36).

Bounds (an API that misbehaves costs time, never the run):
- each call's total time: `timeout` is urllib3's per-read timeout, which restarts with
  every byte, so a server trickling its answer could hold a call for ever; each call
  runs on a worker thread given TOTAL_FACTOR x timeout in all (cut to the run's
  deadline, `probe.stop`), after which it is a `Timeout` problem;
- pagination: at most MAX_PAGES pages per list, and a `continue` token seen twice
  ends it (an `InvalidResponse` problem), so a server that always answers with a token
  cannot loop the run;
- memory: `keep` trims or drops each item as its page arrives (a list of 20,000 pods
  is never held whole).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Union

from probe.jsondoc import load_json
from probe.kube.errors import ApiProblem, Read, api_errors, problem_from_exception
from probe.stop import current as current_stop

Obj = dict[str, Any]
Result = Union[list[Obj], ApiProblem]  # noqa: UP007 - readable on 3.10 at runtime
Keep = Callable[[Obj], Union[Obj, None]]  # noqa: UP007 - an item, trimmed, or None: drop it

TOTAL_FACTOR = 2.0  # a call's total time, in per-read timeouts
MAX_PAGES = 200  # 100,000 objects at kubectl's 500 a page: far past any Volt namespace


class CallTimedOut(Exception):
    """A bounded call did not finish in its total time (its thread is left behind)."""


def bounded_call(work: Callable[[], Any], seconds: float, name: str) -> Any:
    """`work()` on a daemon thread, waiting at most `seconds`; its value, or its exception
    re-raised here, or CallTimedOut. A thread left behind holds only its own socket."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001 (re-raised below)
            box["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join(max(0.0, seconds))
    if thread.is_alive():
        raise CallTimedOut(f"no complete answer in {seconds:.3g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class ApiReader:
    """Reads through one ApiClient with one timeout; results are wire dicts or a problem."""

    def __init__(self, api_client: Any, timeout: float, page_size: int) -> None:
        self._api = api_client
        self._timeout = timeout
        self._page_size = page_size

    def _bounded(self, read: Read, work: Callable[[], Any]) -> Any:
        """`work()` within the call's total time; an ApiProblem when it fails or times out."""
        seconds = current_stop().bound(TOTAL_FACTOR * self._timeout)
        if seconds <= 0:
            return timed_out(read, "the run's deadline passed before this call")
        try:
            return bounded_call(work, seconds, f"api-{read.verb}-{read.resource}")
        except CallTimedOut as exc:
            return timed_out(read, str(exc))
        except api_errors() as exc:
            return problem_from_exception(read, exc)

    def call(
        self, read: Read, fn: Callable[..., Any], *args: Any, raw: bool = False, **kwargs: Any
    ) -> Obj | ApiProblem:
        """One typed call; the answer as a wire dict (or a problem, a Timeout past its
        total time). `raw`: the body's JSON as it came, without the client's typed models
        (a fraction of the memory for a page of 500 pods; bounded nesting)."""

        def work() -> Any:
            if raw:
                response = fn(
                    *args, _request_timeout=self._timeout, _preload_content=False, **kwargs
                )
                return load_json(response.data, f"the {read.resource} list")
            answer = fn(*args, _request_timeout=self._timeout, **kwargs)
            return self._api.sanitize_for_serialization(answer)

        answer = self._bounded(read, work)
        if isinstance(answer, ApiProblem):
            return answer
        if not isinstance(answer, dict):
            return problem_from_exception(
                read, ValueError(f"the answer is {type(answer).__name__}, not an object")
            )
        return answer

    def list_all(
        self,
        read: Read,
        fn: Callable[..., Any],
        *args: Any,
        keep: Keep | None = None,
        **kwargs: Any,
    ) -> Result:
        """Every item of a list call, page by page (limit/continue), never one call per
        object; each item passed through `keep` (None: dropped) as its page arrives."""

        def page(token: str | None) -> Obj | ApiProblem:
            return self.call(
                read,
                fn,
                *args,
                raw=keep is not None,
                limit=self._page_size,
                _continue=token,
                **kwargs,
            )

        return self._paged(Pages(read, keep), page)

    def list_raw(self, read: Read, path: str) -> Result:
        """A paged list through the generic call_api: for a path the typed client has no
        method for, or whose objects its models may refuse (one would lose the list).
        Pages are decoded as `call(raw=True)` decodes them: bounded JSON, no models."""

        def page(token: str | None) -> Obj | ApiProblem:
            query: list[tuple[str, Any]] = [("limit", self._page_size)]
            if token:
                query.append(("continue", token))

            def work() -> Any:
                request = self._api.param_serialize(
                    method="GET",
                    resource_path=path,
                    query_params=query,
                    header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"],
                )
                response = self._api.call_api(*request, _request_timeout=self._timeout)
                response.read()
                if 200 <= response.status < 300:  # decoded with the same bounds as `call`
                    return load_json(response.data, f"the {read.resource} list")
                # the client's own reading of an error answer (an ApiException)
                return self._api.response_deserialize(response, {"200": "object"}).data

            answer = self._bounded(read, work)
            if isinstance(answer, ApiProblem) or isinstance(answer, dict):
                return answer
            return problem_from_exception(
                read, ValueError(f"{path} answered {type(answer).__name__}")
            )

        return self._paged(Pages(read, None), page)

    @staticmethod
    def _paged(pages: Pages, page: Callable[[str | None], Obj | ApiProblem]) -> Result:
        """Ask `page(continue token)` until the list ends; the first problem ends it."""
        token: str | None = None
        while True:
            answer = page(token)
            if isinstance(answer, ApiProblem):
                return answer
            following = pages.add(answer)
            if isinstance(following, ApiProblem):
                return following
            token = following
            if not token:
                return pages.items


class Pages:
    """The items of one paged list so far, and the guards on its `continue` tokens."""

    def __init__(self, read: Read, keep: Keep | None) -> None:
        self.read = read
        self.keep = keep
        self.items: list[Obj] = []
        self.tokens: set[str] = set()

    def add(self, page: Obj) -> str | ApiProblem | None:
        """Keep the page's items; the next token (None: the last page), or a problem when
        the tokens repeat or the pages pass MAX_PAGES."""
        items = page.get("items") or []
        metadata = page.get("metadata") or {}
        if not isinstance(items, list) or not isinstance(metadata, dict):
            return problem_from_exception(self.read, ValueError("a list without an items list"))
        for item in items:
            if not isinstance(item, dict):
                continue
            kept = item if self.keep is None else self.keep(item)
            if kept is not None:
                self.items.append(kept)
        token = metadata.get("continue") or None
        if token is None:
            return None
        if not isinstance(token, str) or token in self.tokens:
            return _invalid(self.read, "the API repeated a continue token (pagination loop)")
        self.tokens.add(token)
        if len(self.tokens) >= MAX_PAGES:
            return _invalid(self.read, f"more than {MAX_PAGES} pages: listing stopped")
        return token


def timed_out(read: Read, message: str) -> ApiProblem:
    return problem_from_exception(read, TimeoutError(message))


def _invalid(read: Read, message: str) -> ApiProblem:
    return replace(problem_from_exception(read, ValueError(message)), message=message)
