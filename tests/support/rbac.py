"""RBAC rules as the apiserver reads them, for tests that check what a Role allows."""

from __future__ import annotations

from typing import Any


def grants(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Every (apiGroup, resource, verb) the Role's rules allow, spelled out."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
