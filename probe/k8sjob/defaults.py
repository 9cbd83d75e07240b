"""Default parameters of the in-cluster objects: what `voltprobe manifest --help` and
`job --help` show, kept apart from the builders in objects.py so the CLI can build its
parser without them."""

DEFAULT_IMAGE = "ghcr.io/voltprobe/voltprobe:0.1.0"  # placeholder: push to your registry
DEFAULT_NAME = "voltprobe"
DEFAULT_NAMESPACE = "default"
DEFAULT_RESPONDER_NAME = "voltprobe-responder"
DEFAULT_ACTIVE_DEADLINE = 300
DEFAULT_TTL = 3600
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
DEFAULT_SERVICE_TYPE = "LoadBalancer"  # the responder, reachable from the peer cluster
DEFAULT_IP_FAMILY_POLICY = "PreferDualStack"  # never fails on a single-stack cluster
IP_FAMILY_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")
