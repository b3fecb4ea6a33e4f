"""Optional test dependencies: skipped locally when missing, a failure under CI=true."""

from __future__ import annotations

import pytest
from conftest import import_or_skip


def test_a_missing_optional_module_is_skipped_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        import_or_skip("ci_sim_no_such_module")


def test_a_missing_optional_module_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ImportError):
        import_or_skip("ci_sim_no_such_module")
    assert import_or_skip("json").dumps([1]) == "[1]"  # a present module is imported in either case
