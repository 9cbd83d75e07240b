"""The boundary with the Kubernetes client, shared by the inventory and `voltprobe job`.

config.py  which cluster to ask and with what credentials (in-cluster, kubeconfig)
errors.py  every client failure classified once, as an `ApiProblem` value
reader.py  paged, read-only calls for the inventory; answers as camelCase wire dicts

The `kubernetes` package is imported only inside functions, so importing this is cheap.
"""
