"""IPython magics: `%load_ext runway_nb`, then a cell is a shot.

    %%runway -o shot1 --seconds 2 --camera zoom_in:0.5 --seed 7
    a red ball bouncing on a green field

The cell body is the prompt; the clip is displayed and bound to `shot1`. The options
are the CLI's (`runway_nb/options.py` defines them once for both) — `--device cuda`,
`--dtype bfloat16` and `--engine-option vae_tiling=true` among them. Without any of these
three a cell renders on the engine the notebook loaded under `--engine`'s id or folder, as
it was loaded (`rn.load_engine("ltx", device="cuda", cpu_offload=True)`: that one, not a
second copy on the CPU), else on one loaded on the CPU (the CLI's default) — plus:

    -o NAME        bind the clip to NAME in the notebook
    --store DIR    also save it in a project folder (the Studio's gallery reads it)
    --quiet        no progress bar

Line magics:

    %runway engines               the engines and whether their weights are here
    %runway append [NAME]         append the last %%runway clip to the Sequence NAME
                                  (default `sequence`; made if it does not exist yet)
    %runway help                  every option of both (IPython will not run `%%runway
                                  --help` alone: a cell magic needs a body, so this does)

A bad option or value is one clear line (IPython's UsageError), never a traceback.
"""

from __future__ import annotations

import argparse
import keyword
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from .errors import RunwayError
from .options import generate_kwargs, generate_options

SUBCOMMANDS = ("engines", "append", "help")


class _HelpShown(Exception):
    """-h/--help printed the help text: nothing more to do."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line in the notebook) instead of exiting."""

    def error(self, message):
        # `%runway help` lists both magics' options; IPython runs no `%%runway --help` without
        # a cell body, so that is the hint
        raise UsageError(f"{self.prog}: {message}. See %runway help.")

    def exit(self, status=0, message=None):
        if status:
            raise UsageError(f"{self.prog}: {message or 'error'}")
        raise _HelpShown


def _cell_parser() -> _Parser:
    p = _Parser(prog="%%runway", parents=[generate_options(in_kernel=True)],
                description="Render the cell body (the prompt) to a clip.")
    p.add_argument("-o", "--output", metavar="NAME", help="bind the clip to this variable")
    p.add_argument("--store", metavar="DIR", help="also save the clip in this project folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _line_parser() -> _Parser:
    p = _Parser(prog="%runway", description="runway_nb line magic.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="{engines,append,help}")
    sub.add_parser("engines", help="list the engines")
    app = sub.add_parser("append", help="append the last %%%%runway clip to a sequence")  # argparse halves %%
    app.add_argument("name", nargs="?", default="sequence", help="the Sequence variable (default: sequence)")
    app.add_argument("--clip", metavar="VAR", help="append this clip variable instead of the last clip")
    sub.add_parser("help", help="show this help")
    return p


def _split(line: str, prog: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{prog}: cannot read the options ({exc}); check the quotes.") from None


def _check_name(name: str, what: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"{what} {name!r} is not a Python variable name (letters, digits, _).")
    return name


@magics_class
class RunwayMagics(Magics):
    """`%%runway` (make a clip from the cell) and `%runway engines|append`."""

    def __init__(self, shell=None):
        super().__init__(shell)
        self.last_clip = None

    @line_cell_magic
    def runway(self, line: str, cell: str | None = None):
        if cell is None:
            return self._line(line)
        return self._cell(line, cell)

    # ---- %%runway ---------------------------------------------------------------------
    def _cell(self, line: str, cell: str):
        parser = _cell_parser()
        try:
            args = parser.parse_args(_split(line, "%%runway"))
        except _HelpShown:
            return
        if args.output is not None:
            _check_name(args.output, "-o")
        import runway_nb as rn

        try:
            if args.store:                 # checked before rendering, not after
                from .store import check_project_folder

                check_project_folder(args.store, "--store")
            clip = rn.generate(cell.strip(), progress=not args.quiet, **generate_kwargs(args))
        except RunwayError as exc:
            raise UsageError(str(exc)) from None
        # the clip is the user's from here on, whatever happens to the store
        self.last_clip = clip
        if args.output is not None:
            self.shell.user_ns[args.output] = clip
        from IPython.display import display

        display(clip)
        if args.store:
            from .store import Store

            try:
                Store(args.store).add(clip)
            except RunwayError as exc:
                name = f"`{args.output}`" if args.output else "the last %%runway clip"
                raise UsageError(f"{exc} The clip is not lost: it is {name} (%runway append adds it "
                                 f"to the film; clip.save('a.mp4') writes it).") from None

    # ---- %runway ----------------------------------------------------------------------
    def _line(self, line: str):
        parser = _line_parser()
        words = _split(line, "%runway")
        if not words:
            raise UsageError(f"%runway needs a command: {', '.join(SUBCOMMANDS)} "
                             "(or use %%runway as a cell magic to make a clip).")
        try:
            args = parser.parse_args(words)
        except _HelpShown:
            return None
        if args.command == "help":
            parser.print_help()
            _cell_parser().print_help()
        elif args.command == "engines":
            self._engines()
        elif args.command == "append":
            return self._append(args.name, args.clip)
        return None

    def _engines(self) -> None:
        from .engines.registry import list_engines

        rows = list_engines()
        width = max([len(r["id"]) for r in rows] + [6])
        print(f"{'engine':<{width}}  weights  description")
        for r in rows:
            print(f"{r['id']:<{width}}  {'yes' if r['weights_available'] else 'no':<7}  {r['description']}")

    def _append(self, name: str, clip_var: str | None):
        from .sequence import Sequence

        ns = self.shell.user_ns
        _check_name(name, "sequence name")
        if clip_var is not None:
            if _check_name(clip_var, "--clip") not in ns:
                raise UsageError(f"--clip {clip_var}: no such variable in this notebook.")
            clip = ns[clip_var]
        else:
            clip = self.last_clip
        if clip is None:
            raise UsageError("No clip to append yet: make one with a %%runway cell first "
                             "(or give --clip VAR).")
        seq, made = ns.get(name), False
        if seq is None:
            seq, made = Sequence(), True
        elif not isinstance(seq, Sequence):
            raise UsageError(f"{name!r} is a {type(seq).__name__}, not a runway_nb Sequence; "
                             f"give another name: %runway append NAME.")
        try:
            seq.append(clip)
        except RunwayError as exc:
            raise UsageError(f"Not appended: {exc}") from None
        ns[name] = seq
        print(f"Appended {getattr(clip, 'id', 'the clip')} to {'new sequence ' if made else ''}"
              f"`{name}`: {len(seq)} clip{'s' * (len(seq) != 1)}, {seq.duration:.2f} s.")


def load_ipython_extension(ipython) -> None:
    """`%load_ext runway_nb` (or runway_nb.magics): registers %runway and %%runway."""
    ipython.register_magics(RunwayMagics)
