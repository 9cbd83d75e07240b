"""`Status` bodies as the apiserver writes them (k8s.io/apimachinery errors.New*)."""

from __future__ import annotations

from typing import Any

from .resources import ResourceType


def status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def success(rt: ResourceType, name: str, uid: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": rt.group, "kind": rt.plural, "uid": uid},
    }


def _details(rt: ResourceType, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": rt.plural}
    if name:
        details["name"] = name
    if rt.group:
        details["group"] = rt.group
    return details


def unauthorized() -> dict[str, Any]:
    return status(401, "Unauthorized", "Unauthorized")


def forbidden(
    rt: ResourceType,
    verb: str,
    user: str,
    namespace: str | None,
    name: str | None = None,
    subresource: str | None = None,
) -> dict[str, Any]:
    """errors.NewForbidden with the RBAC authorizer's reason text; a subresource is named
    in the resource ("pods/ephemeralcontainers"), the target stays the object."""
    target = f'{rt.qualified} "{name}"' if name else rt.qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    resource = f"{rt.plural}/{subresource}" if subresource else rt.plural
    message = (
        f'{target} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{rt.group}" {scope}'
    )
    return status(403, "Forbidden", message, _details(rt, name))


def not_found(rt: ResourceType, name: str) -> dict[str, Any]:
    return status(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def no_such_path() -> dict[str, Any]:
    """What the apiserver answers for a path (resource, group, version) it does not serve."""
    return status(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(rt: ResourceType, name: str) -> dict[str, Any]:
    return status(
        409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name)
    )


def internal_error(cause: str) -> dict[str, Any]:
    return status(
        500,
        "InternalError",
        f"Internal error occurred: {cause}",
        {"causes": [{"message": cause}]},
    )


def bad_request(message: str) -> dict[str, Any]:
    return status(400, "BadRequest", message)


def expired_continue() -> dict[str, Any]:
    return status(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter, or use the continue token "
        "in this response to retrieve the remainder of the results. Continuing with the "
        "provided token results in an inconsistent list - objects that were created, "
        "modified, or deleted between the time the first chunk was returned and now may "
        "show up in the list.",
    )


def method_not_allowed(method: str) -> dict[str, Any]:
    return status(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method})",
    )


# field.ErrorType -> the cause reason the apiserver writes (k8s.io/apimachinery/pkg/util/validation/field)
CAUSE_REASONS = {
    "Forbidden": "FieldValueForbidden",
    "Duplicate value": "FieldValueDuplicate",
    "Required value": "FieldValueRequired",
    "Not found": "FieldValueNotFound",
    "Invalid value": "FieldValueInvalid",
}


def invalid(kind: str, name: str, errors: list[tuple[str, str, str]]) -> dict[str, Any]:
    """errors.NewInvalid: 422 for `errors`, each (field path, error type, detail), e.g.
    ("spec.ephemeralContainers[0].ports", "Forbidden", "cannot be set for an Ephemeral
    Container"). One error is written inline, several as a bracketed list."""
    texts = [
        f"{path}: {etype}" + (f": {detail}" if detail else "") for path, etype, detail in errors
    ]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    causes = [
        {
            "reason": CAUSE_REASONS.get(etype, "FieldValueInvalid"),
            "message": f"{etype}: {detail}" if detail else etype,
            "field": path,
        }
        for path, etype, detail in errors
    ]
    return status(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {joined}',
        {"name": name, "kind": kind, "causes": causes},
    )
