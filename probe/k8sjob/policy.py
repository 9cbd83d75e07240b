"""The ValidatingAdmissionPolicy that makes the runner role (`manifest runner-role`) safe
to hand out: `k8s/runner-policy.yaml`.

What RBAC alone grants: `create jobs` lets its holder run any image as any ServiceAccount
of the namespace, mount any Secret and so read every Secret there (the pod's log is
readable too); `delete` on serviceaccounts, roles, rolebindings and jobs covers every
such object of the namespace, not only voltprobe's. RBAC cannot narrow either: it has no
label selectors, and `job run` names its objects per run (resourceNames cannot list them).

So the policy narrows what RBAC cannot, for the holders of the runner role only
(admission control, Kubernetes 1.30+, admissionregistration.k8s.io/v1;
kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/):

* who: a request is checked when its user may `use` voltprobe.io/runners in the
  namespace (a rule only the runner role grants; voltprobe.io serves nothing) and may
  NOT `use` voltprobe.io/unrestricted (which only a wildcard rule such as cluster-admin's
  grants): admins keep their rights, runner-role holders get the limits below;
* Jobs: exactly the voltprobe image, a ServiceAccount named voltprobe-*, no init or
  ephemeral containers, only emptyDir volumes (no Secret, projected, hostPath, CSI...),
  no environment from Secrets or ConfigMaps;
* ServiceAccounts, Roles, RoleBindings: named voltprobe-*; a RoleBinding binds a Role
  named voltprobe-* to ServiceAccounts named voltprobe-* of the namespace;
* Pods and Services (`job run --responder`, runner-role --with-responder): named
  voltprobe-*; a Pod as a Job's pod above, plus no service account token and no host
  network; a Service without externalIPs (CVE-2020-8554: externalIPs let a Service
  capture traffic to any address);
* delete: only objects labelled app.kubernetes.io/name=voltprobe (what voltprobe created).
"""

from __future__ import annotations

import json
from typing import Any

Obj = dict[str, Any]

POLICY = "voltprobe-runner-limits"
MARKER_GROUP = "voltprobe.io"  # serves nothing: its rules only mark who the policy limits
MARKER_RESOURCE = "runners"
EXEMPT_RESOURCE = "unrestricted"  # granted only by wildcard rules (admins)
PREFIX = "voltprobe-"  # `job run` names its objects voltprobe-<random>

_RUNNER = (
    f"authorizer.group('{MARKER_GROUP}').resource('{MARKER_RESOURCE}')"
    ".namespace(request.namespace).check('use').allowed()"
)
_ADMIN = (
    f"authorizer.group('{MARKER_GROUP}').resource('{EXEMPT_RESOURCE}')"
    ".namespace(request.namespace).check('use').allowed()"
)
_POD = "object.spec.template.spec"


def marker_rule() -> Obj:
    """The rule the runner role carries so the policy knows whom it limits."""
    return {"apiGroups": [MARKER_GROUP], "resources": [MARKER_RESOURCE], "verbs": ["use"]}


def _validation(expression: str, message: str) -> Obj:
    return {"expression": expression, "message": message}


def _job_validations(image: str) -> list[Obj]:
    creating = "request.operation != 'CREATE' || request.resource.resource != 'jobs' || "
    quoted = json.dumps(image)  # a CEL string literal
    return [
        _validation(
            creating + f"{_POD}.containers.all(c, c.image == {quoted})",
            f"a Job created with the voltprobe runner role runs only {image}",
        ),
        _validation(
            creating
            + f"({_POD}.serviceAccountName.startsWith('{PREFIX}') "
            + f"&& !has({_POD}.initContainers) && !has({_POD}.ephemeralContainers))",
            f"a voltprobe Job runs as a ServiceAccount named {PREFIX}*, one container",
        ),
        *_pod_spec_validations(creating, _POD, "Job"),
    ]


def _pod_spec_validations(creating: str, spec: str, what: str) -> list[Obj]:
    return [
        _validation(
            creating + f"(!has({spec}.volumes) || {spec}.volumes.all(v, has(v.emptyDir)))",
            f"a voltprobe {what} mounts only emptyDir volumes (no Secret, projected, hostPath)",
        ),
        _validation(
            creating
            + f"{spec}.containers.all(c, !has(c.envFrom) && (!has(c.env) || c.env.all(e, "
            + "!has(e.valueFrom) || (!has(e.valueFrom.secretKeyRef) "
            + "&& !has(e.valueFrom.configMapKeyRef)))))",
            f"a voltprobe {what} takes no environment from Secrets or ConfigMaps",
        ),
    ]


def _responder_validations(image: str) -> list[Obj]:
    """The responder (`job run --responder`): a bare Pod running `voltprobe serve` and a
    Service in front of it."""
    pod = "request.operation != 'CREATE' || request.resource.resource != 'pods' || "
    service = "request.operation != 'CREATE' || request.resource.resource != 'services' || "
    quoted = json.dumps(image)
    return [
        _validation(
            pod + f"object.spec.containers.all(c, c.image == {quoted})",
            f"a Pod created with the voltprobe runner role runs only {image}",
        ),
        _validation(
            pod
            + "(has(object.spec.automountServiceAccountToken) "
            + "&& object.spec.automountServiceAccountToken == false "
            + "&& !has(object.spec.initContainers) && !has(object.spec.ephemeralContainers) "
            + "&& (!has(object.spec.hostNetwork) || object.spec.hostNetwork == false))",
            "a voltprobe Pod mounts no service account token, runs one container, and not "
            "in the host's network",
        ),
        *_pod_spec_validations(pod, "object.spec", "Pod"),
        _validation(
            service + "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
            "a voltprobe Service sets no externalIPs (they capture traffic to any address)",
        ),
    ]


def _rbac_validations() -> list[Obj]:
    named = (
        "request.operation != 'CREATE' || request.resource.resource == 'jobs' || "
        f"object.metadata.name.startsWith('{PREFIX}')"
    )
    binding = (
        "request.operation != 'CREATE' || request.resource.resource != 'rolebindings' || "
        f"(object.roleRef.kind == 'Role' && object.roleRef.name.startsWith('{PREFIX}') && "
        "object.subjects.all(s, s.kind == 'ServiceAccount' && "
        f"s.name.startsWith('{PREFIX}') && (!has(s.namespace) || "
        "s.namespace == request.namespace)))"
    )
    deleting = (
        "request.operation != 'DELETE' || (has(oldObject.metadata.labels) && "
        "'app.kubernetes.io/name' in oldObject.metadata.labels && "
        "oldObject.metadata.labels['app.kubernetes.io/name'] == 'voltprobe')"
    )
    return [
        _validation(named, f"the voltprobe runner role creates only objects named {PREFIX}*"),
        _validation(
            binding,
            f"the voltprobe runner role binds only Roles named {PREFIX}* to its own "
            "ServiceAccounts",
        ),
        _validation(
            deleting,
            "the voltprobe runner role deletes only what voltprobe created "
            "(label app.kubernetes.io/name=voltprobe)",
        ),
    ]


def runner_policy(image: str) -> list[Obj]:
    """The ValidatingAdmissionPolicy and its binding (Deny), cluster-scoped."""
    meta_labels = {
        "app.kubernetes.io/name": "voltprobe",
        "app.kubernetes.io/instance": POLICY,
        "app.kubernetes.io/component": "runner",
    }
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY, "labels": meta_labels},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["batch"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "DELETE"],
                        "resources": ["jobs"],
                    },
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "DELETE"],
                        "resources": ["serviceaccounts"],
                    },
                    {
                        "apiGroups": ["rbac.authorization.k8s.io"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "DELETE"],
                        "resources": ["roles", "rolebindings"],
                    },
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "DELETE"],
                        "resources": ["pods", "services"],
                    },
                ]
            },
            "matchConditions": [
                {"name": "runner-role-holders-only", "expression": f"{_RUNNER} && !{_ADMIN}"}
            ],
            "validations": [
                *_job_validations(image),
                *_rbac_validations(),
                *_responder_validations(image),
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY, "labels": meta_labels},
        "spec": {"policyName": POLICY, "validationActions": ["Deny"]},
    }
    return [policy, binding]
