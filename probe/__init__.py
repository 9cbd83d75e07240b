"""voltprobe: the network pre-flight check for VoltDB XDCR on Kubernetes."""

__version__ = "0.1.0"
