"""On Colab, importing runway_nb.ui switches on the custom widget manager; elsewhere nothing."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from runway_nb.ui import colab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_colab(monkeypatch):
    """A stand-in `google.colab` whose output module records the call."""
    calls = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enabled")
    package = types.ModuleType("google.colab")
    package.output = output
    google = types.ModuleType("google")
    google.colab = package
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", package)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    monkeypatch.setattr(colab, "_enabled", False)
    return calls


def test_outside_colab_nothing_is_called(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(colab, "_enabled", False)
    assert not colab.in_colab()
    assert colab.enable_custom_widgets() is False


def test_on_colab_the_widget_manager_is_enabled_once(fake_colab):
    assert colab.enable_custom_widgets() is True
    assert colab.enable_custom_widgets() is True          # a second Studio: no second call
    assert fake_colab == ["enabled"]


def test_when_colab_refuses_the_warning_says_what_to_run(fake_colab):
    def refuse():
        raise AttributeError("no such function")

    sys.modules["google.colab.output"].enable_custom_widget_manager = refuse
    with pytest.warns(RuntimeWarning, match="enable_custom_widget_manager"):
        assert colab.enable_custom_widgets() is False


def test_importing_the_widgets_on_colab_enables_the_manager():
    """What a Colab user does: import the package and make a widget; nothing else."""
    code = """
import sys, types
calls = []
output = types.ModuleType("google.colab.output")
output.enable_custom_widget_manager = lambda: calls.append(1)
package = types.ModuleType("google.colab"); package.output = output
google = types.ModuleType("google"); google.colab = package
sys.modules.update({"google": google, "google.colab": package, "google.colab.output": output})
from runway_nb.ui import Player
assert calls == [1], calls
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
