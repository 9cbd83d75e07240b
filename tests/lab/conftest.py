"""Every test under tests/lab/ gets the lab fixtures (see fixtures.py)."""

from .fixtures import clean_lab, lab, lab_run

__all__ = ["clean_lab", "lab", "lab_run"]
