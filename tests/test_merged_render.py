"""The merged result as people and CI read it: the 80-column matrix with long cluster
names, JUnit that follows the merge's own reasoning, the mode actually used in the
Markdown environment, and each command's -o help naming only its own formats."""

from __future__ import annotations

import argparse
import re

import pytest

from probe.cli import build_parser

ALL_FORMATS = ("table", "wide", "short", "json", "yaml", "values", "markdown", "junit")


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps its subparsers here only
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise AssertionError(f"no subcommand {name}")


@pytest.mark.parametrize("command", ["report", "inventory", "check"])
def test_output_help_names_only_the_commands_own_formats(command: str) -> None:
    parser = subcommand(build_parser(), command)
    (output,) = [a for a in parser._actions if "--output" in a.option_strings]
    assert output.choices is not None and output.help is not None
    named = {f for f in ALL_FORMATS if re.search(rf"\b{f}\b", output.help)}
    assert named <= set(output.choices), (command, named - set(output.choices))
    if command != "check":  # check's help describes its human formats only
        assert named == set(output.choices), (command, set(output.choices) - named)
