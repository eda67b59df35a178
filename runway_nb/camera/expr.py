"""A small, safe expression language for Deforum-style schedule values.

Deforum evaluates schedule values such as `1.0025+0.002*sin(1.25*3.14*t/30)` with
numexpr. A schedule pasted from a forum must never reach Python's `eval`, so we parse
it ourselves: a tokenizer and a recursive-descent parser build a tiny tree of
numbers, names and operators, and `Expression.evaluate` walks that tree with numpy.
The only names are `t` (the frame number), the constants `pi` and `e`, any extra
variables the caller declares, and a whitelist of math functions. Nothing else, so
`__import__('os')`, `open(...)` or `a.b` are refused before anything runs.

Grammar, loosest binding first (as in Python, so `-2^2 == -4`):

    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/' | '%') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom (('^' | '**') unary)?        right-associative: 2^3^2 == 2^9
    atom    := NUMBER | NAME | NAME '(' sum (',' sum)* ')' | '(' sum ')'

`^` and `**` both mean power (numexpr writes `**`; many tools write `^`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

MAX_LENGTH = 2000   # characters; a schedule value is a formula, not a program
MAX_DEPTH = 60      # nesting depth; keeps the recursive parser far from Python's limit


def _round_half_away(x):
    # Python's round() rounds half to even (round(2.5) == 2); people expect 3
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


# name -> (numpy function, minimum args, maximum args)
FUNCTIONS = {
    "sin": (np.sin, 1, 1), "cos": (np.cos, 1, 1), "tan": (np.tan, 1, 1),
    "abs": (np.abs, 1, 1), "sqrt": (np.sqrt, 1, 1), "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1), "floor": (np.floor, 1, 1), "ceil": (np.ceil, 1, 1),
    "round": (_round_half_away, 1, 1),
    "min": (lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)), 1, 32),
    "max": (lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)), 1, 32),
}
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
           "%": np.mod, "^": np.power, "**": np.power}

GRAMMAR_SUMMARY = ("a value is a number or an arithmetic expression of the frame number t: "
                   "+ - * / % ^ (or **), parentheses, the constants pi and e, and the functions "
                   + ", ".join(FUNCTIONS))

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/%^(),])
""", re.VERBOSE | re.ASCII)     # ASCII: \d would take '١٢' or '𝟙', which float() then reads

# Characters people try that have no place in a formula, with the reason in words.
_FORBIDDEN = {".": "attribute access (a.b) is not allowed", "[": "indexing is not allowed",
              "'": "text in quotes is not allowed", '"': "text in quotes is not allowed",
              "=": "assignment and comparison are not allowed",
              ";": "only a single expression is allowed", "_": "names cannot start with _"}


@dataclass(frozen=True)
class _Token:
    kind: str   # number | name | op | end
    text: str
    pos: int    # 0-based character position in the expression


@dataclass(frozen=True)
class Expression:
    """A parsed, safe formula. `evaluate(t)` works on a number or a numpy array of t."""

    text: str
    tree: tuple
    variables: tuple[str, ...]

    @property
    def uses_t(self) -> bool:
        return _mentions(self.tree, "t")

    def evaluate(self, t=0.0, **variables) -> np.ndarray | float:
        env = {"t": np.asarray(t, dtype=np.float64), **variables}
        with np.errstate(all="ignore"):   # non-finite results are reported by the caller
            out = _evaluate(self.tree, env)
        out = np.broadcast_to(np.asarray(out, dtype=np.float64), np.shape(env["t"]))
        return float(out) if out.ndim == 0 else out.copy()


def parse_expression(text: str, field: str = "expression", *, variables: tuple[str, ...] = ("t",),
                     offset: int = 0, shown: str | None = None) -> Expression:
    """Parse `text` or raise InvalidInput naming `field`, the character where it broke
    and why. `offset`/`shown` let a caller report positions inside a longer string
    (a whole schedule) instead of this one value."""
    if not isinstance(text, str):
        raise InvalidInput(field, text, GRAMMAR_SUMMARY)
    if len(text) > MAX_LENGTH:
        raise InvalidInput(field, text, f"must be at most {MAX_LENGTH} characters (got {len(text)})")
    parser = _Parser(text, field, tuple(variables), offset, text if shown is None else shown)
    return Expression(text, parser.parse(), tuple(variables))


def evaluate(text: str, t=0.0, field: str = "expression"):
    """Parse and evaluate in one call: `evaluate("1 + 0.5*sin(t)", t=3)`."""
    return parse_expression(text, field).evaluate(t)


class _Parser:
    def __init__(self, text: str, field: str, variables: tuple[str, ...], offset: int, shown: str):
        self.field, self.variables, self.offset, self.shown = field, variables, offset, shown
        self.text, self.scan = text, 0   # tokens are read lazily, so errors come left to right
        self.tokens: list[_Token] = []
        self.i = 0
        self.depth = 0

    # ---- errors -------------------------------------------------------------------------
    def fail(self, pos: int, reason: str):
        where = self.offset + pos
        context = self.shown[max(0, where - 12): where + 12]
        raise InvalidInput(self.field, self.shown,
                           f"{reason} at character {where + 1} (near {context!r}); {GRAMMAR_SUMMARY}")

    # ---- tokens -------------------------------------------------------------------------
    def _read_token(self) -> _Token:
        text = self.text
        while self.scan < len(text):
            m = _TOKEN.match(text, self.scan)
            if m is None:
                ch = text[self.scan]
                self.fail(self.scan, f"unexpected character {ch!r}"
                          + (f": {_FORBIDDEN[ch]}" if ch in _FORBIDDEN else ""))
            self.scan = m.end()
            if m.lastgroup != "space":
                return _Token(m.lastgroup, m.group(), m.start())
        return _Token("end", "", len(text))

    @property
    def tok(self) -> _Token:
        while len(self.tokens) <= self.i:
            self.tokens.append(self._read_token())
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, text: str):
        if self.tok.text != text:
            found = "the end" if self.tok.kind == "end" else repr(self.tok.text)
            self.fail(self.tok.pos, f"expected {text!r} but found {found}")
        return self.take()

    # ---- grammar ------------------------------------------------------------------------
    def parse(self) -> tuple:
        if self.tok.kind == "end":
            self.fail(0, "the value is empty")
        tree = self.sum()
        if self.tok.kind != "end":
            what = ("a number or name right after another one (is an operator missing?)"
                    if self.tok.kind in ("number", "name") else f"unexpected {self.tok.text!r}")
            self.fail(self.tok.pos, what)
        return tree

    # `a + b - c` becomes one flat ("chain", a, (("+", b), ("-", c))) node rather than a
    # left-leaning tree, so a long sum cannot recurse deeper than its parentheses do.
    def sum(self) -> tuple:
        return self._chain(("+", "-"), self.product)

    def product(self) -> tuple:
        return self._chain(("*", "/", "%"), self.unary)

    def _chain(self, ops: tuple[str, ...], operand) -> tuple:
        first, rest = operand(), []
        while self.tok.text in ops:
            rest.append((self.take().text, operand()))
        return ("chain", first, tuple(rest)) if rest else first

    def unary(self) -> tuple:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(self.tok.pos, f"the expression is nested more than {MAX_DEPTH} levels deep")
        if self.tok.text in ("-", "+"):
            sign = self.take().text
            inner = self.unary()
            node = ("neg", inner) if sign == "-" else inner
        else:
            node = self.power()
        self.depth -= 1
        return node

    def power(self) -> tuple:
        base = self.atom()
        if self.tok.text in ("^", "**"):
            op = self.take()
            return ("bin", op.text, base, self.unary())
        return base

    def atom(self) -> tuple:
        tok = self.take()
        if tok.kind == "number":
            return ("num", float(tok.text))
        if tok.kind == "name":
            if tok.text in FUNCTIONS:
                return self.call(tok)
            if tok.text in CONSTANTS:
                return ("num", CONSTANTS[tok.text])
            if tok.text in self.variables:
                return ("var", tok.text)
            # judged from the raw text, so what follows (maybe worse) cannot hide this error
            if self.text[tok.pos + len(tok.text):].lstrip().startswith("("):
                self.fail(tok.pos, f"calling {tok.text!r} is not allowed; functions allowed: "
                                   + ", ".join(FUNCTIONS))
            self.fail(tok.pos, f"{tok.text!r} is not a known name; names allowed: "
                               + ", ".join(self.variables + tuple(CONSTANTS)))
        if tok.text == "(":
            inner = self.sum()
            self.expect(")")
            return inner
        found = "the end of the value" if tok.kind == "end" else repr(tok.text)
        self.fail(tok.pos, f"expected a number, a name or '(' but found {found}")

    def call(self, name: _Token) -> tuple:
        if self.tok.text != "(":
            self.fail(name.pos, f"{name.text!r} is a function: call it with parentheses, as in {name.text}(t)")
        self.take()
        args = [self.sum()]
        while self.tok.text == ",":
            self.take()
            args.append(self.sum())
        self.expect(")")
        _, low, high = FUNCTIONS[name.text]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            self.fail(name.pos, f"{name.text}() takes {wanted} argument(s), got {len(args)}")
        return ("call", name.text, tuple(args))


def _evaluate(node: tuple, env: dict):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "var":
        return env[node[1]]
    if kind == "neg":
        return np.negative(_evaluate(node[1], env))
    if kind == "bin":
        return _BINARY[node[1]](_evaluate(node[2], env), _evaluate(node[3], env))
    if kind == "chain":
        value = _evaluate(node[1], env)
        for op, operand in node[2]:
            value = _BINARY[op](value, _evaluate(operand, env))
        return value
    return FUNCTIONS[node[1]][0](*(_evaluate(arg, env) for arg in node[2]))


def _mentions(node: tuple, name: str) -> bool:
    if node[0] == "var":
        return node[1] == name
    if node[0] == "neg":
        return _mentions(node[1], name)
    if node[0] == "bin":
        return _mentions(node[2], name) or _mentions(node[3], name)
    if node[0] == "chain":
        return _mentions(node[1], name) or any(_mentions(n, name) for _, n in node[2])
    if node[0] == "call":
        return any(_mentions(arg, name) for arg in node[2])
    return False
