"""Run the fake API server as a process (e.g. inside a lab network namespace):

    python -m tests.fakeapi --flavour dual-stack --kubeconfig /tmp/kc

It serves on 127.0.0.1 (of the namespace it runs in), writes a kubeconfig for it
(context namespace = the flavour's namespace) and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .files import kubeconfig_for
from .objects import FLAVOURS
from .server import FakeApiServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeapi")
    parser.add_argument("--flavour", choices=sorted(FLAVOURS), required=True)
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
    args = parser.parse_args()
    flavour = FLAVOURS[args.flavour]()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeApiServer() as api:
        api.load(flavour)
        path = Path(args.kubeconfig)
        partial = path.with_suffix(".partial")
        kubeconfig_for(api, partial, namespace=flavour.namespace)
        partial.rename(path)  # appears complete, or not at all
        print(f"fake API {args.flavour} at {api.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
