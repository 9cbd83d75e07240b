"""Running voltprobe inside a cluster: the manifests and the `voltprobe job` flow.

defaults.py  the default parameters (read by the CLI's parser)
objects.py   the Kubernetes objects as plain dicts, built from frozen parameters (pure)
files.py     the YAML files: which objects go in which file, with their header comments;
             k8s/*.yaml are these files rendered with the defaults (a test keeps them equal)
logs.py      the JSON report between the marker lines of a pod log (pure)
kube.py      kubeconfig loading and ApiException translation (the one boundary)
runner.py    `voltprobe job run` / `job logs`: create, wait, collect, clean up
multi.py     `voltprobe job run --context a --context b`: a Job in each cluster, merged
responder.py `job run --responder`: a stand-in voltprobe serve + Service per cluster
ephemeral.py `voltprobe job run --from-volt-pod`: the check as an ephemeral container
             in a Volt pod: add, wait, collect, mark the report's vantage point
"""
