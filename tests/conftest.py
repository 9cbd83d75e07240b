"""Fixtures shared by every test package: the fake Kubernetes API server (fake_api, ...)."""

pytest_plugins = ("tests.fakeapi.fixtures",)
