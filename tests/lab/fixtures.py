"""The lab's pytest fixtures. tests/lab/conftest.py re-exports them; other test packages
can import them from here (`from tests.lab.fixtures import lab, lab_run`, or `lab.fixtures`).

    lab_run   session: checks the preconditions (skip, or fail under
              VOLTPROBE_REQUIRE_LAB=1), names this run, and at the end fails if any
              namespace, /etc/netns dir or process of this run is left behind.
    lab       module: the standard topology (topology.py), torn down even on failure.
    clean_lab function: `lab` with the peers' firewall rules reset before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .netns import add_namespace, delete_namespace
from .requirements import REQUIRE_ENV, lab_required, missing_reason
from .resources import LabRun
from .shell import LabCommandError
from .topology import Lab, build_lab


@pytest.fixture(scope="session")
def lab_run() -> Iterator[LabRun]:
    run = LabRun()
    reason = missing_reason() or _cannot_create_namespaces(run)
    if reason is not None:
        if lab_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but the lab cannot run: {reason}", pytrace=False)
        pytest.skip(f"lab skipped: {reason} (set {REQUIRE_ENV}=1 to make this a failure)")
    yield run
    leftovers = run.leftovers()
    if leftovers:
        pytest.fail("the lab left behind: " + "; ".join(leftovers), pytrace=False)


def _cannot_create_namespaces(run: LabRun) -> str | None:
    """Root is not always enough (e.g. a container without CAP_SYS_ADMIN): try one."""
    name = f"{run.prefix}check"
    try:
        add_namespace(name)
    except LabCommandError as exc:
        return f"cannot create a network namespace: {exc}"
    delete_namespace(name)
    return None


@pytest.fixture(scope="module")
def lab(lab_run: LabRun) -> Iterator[Lab]:
    built = build_lab(lab_run)
    try:
        yield built
    finally:
        errors = built.close()
        if errors:
            pytest.fail("lab teardown: " + "; ".join(errors), pytrace=False)


@pytest.fixture
def clean_lab(lab: Lab) -> Lab:
    lab.reset()
    return lab
