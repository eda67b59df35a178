"""The schedule formula language: Deforum's arithmetic, and nothing that could run code."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runway_nb.camera.expr import evaluate, parse_expression
from runway_nb.errors import InvalidInput

DEFORUM_DEFAULT_ZOOM = "1.0025+0.002*sin(1.25*3.14*t/30)"


def test_deforum_default_zoom_at_known_frames():
    assert evaluate(DEFORUM_DEFAULT_ZOOM, t=0) == pytest.approx(1.0025, abs=1e-15)
    expected_30 = 1.0025 + 0.002 * math.sin(1.25 * 3.14)
    assert evaluate(DEFORUM_DEFAULT_ZOOM, t=30) == pytest.approx(expected_30, abs=1e-15)
    assert evaluate(DEFORUM_DEFAULT_ZOOM, t=30) == pytest.approx(1.001088604678663, abs=1e-12)


@pytest.mark.parametrize("text, value", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ^ 3 ^ 2", 512), ("2 ** 3", 8), ("-2 ^ 2", -4),
    ("--3", 3), ("+4", 4), ("7 % 3", 1), ("t % 15", 5), ("10 / 4", 2.5), ("8 - 3 - 2", 3),
    ("1e-3 * 1000", 1), (".5 + 1.", 1.5), ("pi", math.pi), ("e", math.e), ("abs(-3)", 3),
    ("sqrt(16)", 4), ("exp(0)", 1), ("log(e)", 1), ("floor(2.7)", 2), ("ceil(2.1)", 3),
    ("round(2.5)", 3), ("round(-2.5)", -3), ("min(3, t, 9)", 3), ("max(1, 2 * t)", 40),
    ("cos(0) + tan(0)", 1), ("  sin( pi / 2 )  ", 1),
])
def test_arithmetic_follows_the_usual_rules(text, value):
    assert evaluate(text, t=20) == pytest.approx(value, abs=1e-12)


def test_evaluates_on_arrays_of_frames():
    frames = np.arange(5.0)
    out = parse_expression("0.5 * t + 1").evaluate(frames)
    np.testing.assert_allclose(out, 0.5 * frames + 1)
    assert parse_expression("2").evaluate(frames).shape == (5,)   # constants broadcast


def test_knows_whether_it_depends_on_t():
    assert parse_expression("sin(t)").uses_t and not parse_expression("sin(2)").uses_t


@pytest.mark.parametrize("text, words", [
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("open('x')", "calling 'open' is not allowed"),
    ("'x'", "quotes"),
    ("open(1)", "calling 'open' is not allowed"),
    ("os.system(1)", "'os' is not a known name"),
    ("t.real", "attribute access"),
    ("eval(1)", "calling 'eval' is not allowed"),
    ("lambda: 1", "'lambda' is not a known name"),
    ("x + 1", "'x' is not a known name"),
    ("sin", "is a function: call it"),
    ("sin + 1", "is a function: call it"),
    ("[1, 2]", "indexing"),
    ("t = 1", "assignment"),
    ("1; 2", "single expression"),
])
def test_anything_but_arithmetic_is_refused(text, words):
    with pytest.raises(InvalidInput) as err:
        parse_expression(text, "camera.zoom")
    assert err.value.field == "camera.zoom"
    assert words in str(err.value)


@pytest.mark.parametrize("text, position, words", [
    ("1 + * 2", 5, "found '*'"),
    ("(1 + 2", 7, "expected ')'"),
    ("1 + 2)", 6, "unexpected ')'"),
    ("2 3", 3, "operator missing"),
    ("sin(1, 2)", 1, "takes 1 argument"),
    ("max()", 5, "found ')'"),
    ("", 1, "empty"),
    ("1 +", 4, "end of the value"),
])
def test_malformed_formulas_say_where_they_broke(text, position, words):
    with pytest.raises(InvalidInput) as err:
        parse_expression(text, "camera.zoom")
    assert f"at character {position} " in str(err.value)
    assert words in str(err.value)


def test_deep_nesting_and_huge_input_are_refused_not_crashing():
    with pytest.raises(InvalidInput, match="nested"):
        parse_expression("(" * 500 + "1" + ")" * 500)
    with pytest.raises(InvalidInput, match="nested"):
        parse_expression("-" * 500 + "1")
    with pytest.raises(InvalidInput, match="at most"):
        parse_expression("1+" * 2000 + "1")


def test_non_text_is_refused():
    with pytest.raises(InvalidInput):
        parse_expression(3.0)  # type: ignore[arg-type]


def test_long_flat_formulas_evaluate_without_deep_recursion():
    assert evaluate("+".join(["1"] * 999)) == 999
    assert evaluate("*".join(["t"] * 999), t=1.0) == 1.0
    assert parse_expression("-".join(["t"] * 999)).uses_t


@pytest.mark.parametrize("text", ["١٢", "𝟙", "1.５"])
def test_digits_of_other_scripts_are_not_numbers_here(text):
    """Only ASCII digits: float() would read '١٢' as 12, a number nobody typed as one."""
    with pytest.raises(InvalidInput, match="unexpected character"):
        evaluate(text)
