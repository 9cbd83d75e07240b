"""The options of one run, as frozen objects built by `probe/cli/` at the edge.

Each default is written here once; the argument parsers show and use these values.
Nothing after the CLI reads argparse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from probe.datapath.types import DataPathOptions
from probe.model import DEFAULT_DR_PORT, ClusterLabel, Severity, Target


class Mode(str, enum.Enum):
    AUTO = "auto"  # raw SYN when allowed, connect() otherwise
    RAW = "raw"
    CONNECT = "connect"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class KubeOptions:
    enabled: bool = True
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    release: str | None = None
    request_timeout: float = 5.0  # seconds per API call
    as_user: str | None = None  # impersonation (Impersonate-User), as kubectl --as
    as_group: str | None = None  # impersonation (Impersonate-Group), as kubectl --as-group
    # Settle "can this cluster allocate a Service in F?" with a server-side dry-run create
    # (dryRun=All, persists nothing; needs `create services`). Opt-in.
    dry_run_service: bool = False


@dataclass(frozen=True)
class CheckOptions:
    targets: tuple[Target, ...] = ()
    port: int = DEFAULT_DR_PORT
    timeout: float = 2.0  # seconds per probe
    dns_timeout: float = 3.0  # seconds for all A/AAAA lookups of one name
    mode: Mode = Mode.AUTO
    concurrency: int = 512
    rate: int = 5000  # packets per second for the raw path
    quick: bool = False
    per_pod: bool = False
    pcap: str | None = None
    resolv_conf: str = "/etc/resolv.conf"
    kube: KubeOptions = KubeOptions()
    # who probes whom (check --cluster/--peer-cluster)
    cluster: ClusterLabel = field(default_factory=ClusterLabel)
    jvm_prefer: str | None = None  # --jvm-prefer (probe.jvm.JvmPrefer value); None: not given
    # where the peer's DR connections come from (its Volt pods and nodes, from --peer-report)
    peer_sources: tuple[str, ...] = ()
    data_path: DataPathOptions = field(default_factory=DataPathOptions)
    deadline: float | None = None  # seconds for the whole run; None: `default_deadline`

    def run_deadline(self) -> float:
        """--deadline, or the default derived from the timeouts and the target count."""
        from probe.stop import default_deadline

        if self.deadline is not None:
            return self.deadline
        return default_deadline(
            len(self.targets),
            self.timeout,
            self.dns_timeout,
            self.kube.request_timeout if self.kube.enabled else 0.0,
            self.concurrency,
            self.system_dns_wait(),
        )

    def system_dns_wait(self) -> float:
        """Seconds glibc may take to answer a peer name one of whose record types is
        never answered (probe.gai.glibc_wait of the system's resolv.conf, which
        --resolv-conf does not change); 0 when every peer is an IP literal."""
        from probe.gai import glibc_wait

        return glibc_wait() if any(not t.is_literal for t in self.targets) else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "port": self.port,
            "timeout": self.timeout,
            "dnsTimeout": self.dns_timeout,
            "mode": self.mode.value,
            "concurrency": self.concurrency,
            "rate": self.rate,
            "quick": self.quick,
            "perPod": self.per_pod,
            "pcap": self.pcap is not None,
            "kube": self.kube.enabled,
            "jvmPrefer": self.jvm_prefer,
            "dataPath": self.data_path.enabled,
            "responder": self.data_path.responder,
            "pathQuality": self.data_path.path_quality.value,
            "samples": self.data_path.samples,
            "deadline": round(self.run_deadline(), 1),
        }


@dataclass(frozen=True)
class OutputOptions:
    """What to print and which files to write once a report exists."""

    format: str = "table"  # one of probe.render.FORMATS
    verbose: bool = False
    report_file: str | None = None
    values_out: str | None = None
    termination_log: str | None = None
    log_json: bool = False  # the JSON report between marker lines after the report
    color: bool = False  # ANSI colour in the table (a terminal, NO_COLOR unset, no --no-color)
    unicode: bool = True  # check marks; ASCII when stdout's encoding cannot show them
    fail_on: Severity | None = None  # --fail-on: exit 4 on a passing run with such a finding


CHECK_DEFAULTS = CheckOptions()
