"""`runway-nb`: the command-line skin over `runway_nb.generate` and the engine registry.

    runway-nb generate "a red circle moving right on a blue background" -o a.mp4
    runway-nb generate "a yellow square on a night sky" --camera zoom_in:0.5 --seed 7 -o b.gif
    runway-nb extend a.mp4 --to 18 -o a18.mp4
    runway-nb engines
    runway-nb bench

`generate` writes the video (format from the suffix: .mp4, .webm or .gif) and, beside
it, `<name>.json`: the complete Shot plus provenance (engine id, weights hash, package
version), so `Shot.from_json` re-makes the same frames. It runs offline. `extend` reads a
clip back from such a pair of files, continues it, and writes the longer clip the same way.
With `--store DIR` either also keeps the clip in a project folder (`rn.Store`, the
Studio's gallery), and `extend` takes a clip id from there and continues its exact frames:

    runway-nb generate "a red circle moving right on a blue background" --store film
    runway-nb extend 50890be8a057 --store film --seconds 4 -o long.mp4

Bad input gets one line on stderr naming the field, the value and what is allowed,
exit status 2, and no output file. The core validates every shot value; this module checks
only what is its own (file paths, `--to`) and turns every refusal into that line.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK
VIDEO_SUFFIXES = (".mp4", ".webm", ".gif")
STORE_HELP = ("also save the clip in this project folder, where the Studio's gallery and rn.Store "
              "find it (made if missing); with --store, -o may be left out")


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(
        prog="runway-nb", description="Text-to-video on runway_nb's engines (offline, CPU by default).")
    ap.add_argument("--version", action="version", version=f"runway_nb {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from .options import generate_options, load_options

    gen = sub.add_parser("generate", help="make a clip from a text prompt", parents=[generate_options()],
                         description="Make a clip from a text prompt; write the video and its shot JSON.")
    gen.add_argument("prompt", help="what the clip shows, e.g. 'a red ball bouncing on a green field'")
    gen.add_argument("-o", "--output", type=Path, metavar="OUT.mp4",
                     help="video file to write (.mp4, .webm or .gif); OUT.json is written beside it")
    gen.add_argument("--store", type=Path, metavar="DIR", help=STORE_HELP)
    gen.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    gen.set_defaults(run=_generate, parser=gen)

    ext = sub.add_parser("extend", help="continue a clip written by generate or extend", parents=[load_options()],
                         description="Continue a clip from its last frames; write the longer clip "
                                     "(the given frames + the new ones) and its shot JSON. The clip "
                                     "is a video with the JSON that generate/extend wrote beside "
                                     "it, or a clip in a project folder (--store).")
    ext.add_argument("clip", metavar="IN.mp4|CLIP_ID",
                     help="the clip to continue: a video (.mp4, .webm or .gif) with its JSON, or "
                          "the id of a clip in --store")
    ext.add_argument("-o", "--output", type=Path, metavar="OUT.mp4",
                     help="video file to write (.mp4, .webm or .gif), not the input; OUT.json beside it")
    ext.add_argument("--store", type=Path, metavar="DIR",
                     help=STORE_HELP + "; a clip kept there is continued from its exact frames")
    more = ext.add_mutually_exclusive_group(required=True)
    more.add_argument("--seconds", type=float, metavar="S", help="seconds to add")
    more.add_argument("--to", type=float, metavar="S", help="the length to reach, in seconds")
    ext.add_argument("--prompt", help="what the continuation shows (default: the clip's prompt)")
    ext.add_argument("--camera", metavar="PRESET[:INTENSITY]|SCHEDULES|FILE.json",
                     help="the continuation's camera move, as for generate (default: the clip's)")
    ext.add_argument("--context", type=int, metavar="N",
                     help="how many of the clip's last frames condition the new ones (engine default)")
    ext.add_argument("--blend", type=int, metavar="N",
                     help="frames the join dissolves over (engine default; 0 = a plain cut)")
    ext.add_argument("--guidance", type=float, metavar="G", help="the continuation's guidance scale")
    ext.add_argument("--engine", help="engine id or folder (default: the one that made the clip)")
    ext.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    ext.set_defaults(run=_extend, parser=ext)

    ren = sub.add_parser("render", help="re-render a film file (seq.save('film.json')) to a video",
                         description="Rebuild a film from its JSON: clips come from a project folder "
                                     "(--store, or the one whose sequences/ holds the film), the video "
                                     "files beside it, or are re-rendered from their Shots.")
    ren.add_argument("film", type=Path, help="the film .json written by Sequence.save (or a project's "
                                             "sequences/NAME.json)")
    ren.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.mp4",
                     help="video to write (.mp4, .webm or .gif)")
    ren.add_argument("--store", type=Path, metavar="DIR",
                     help="a project folder whose clips (exact frames) the film takes first; default: "
                          "the project a film in its sequences/ folder belongs to")
    ren.add_argument("--rerender", action="store_true",
                     help="re-make every clip from its Shot, even when its video file or stored clip is there")
    ren.set_defaults(run=_render, parser=ren)

    bench = sub.add_parser("bench", help="time a 2-second clip on this machine against the README's targets",
                           description="Time a 2-second clip on this machine (median of --runs after a "
                                       "warm-up): generate, first preview, peak memory, the denoiser's "
                                       "use of the CPU, each camera mode; then the README's targets.")
    from .bench import add_arguments

    add_arguments(bench)
    bench.set_defaults(run=_bench, parser=bench)

    eng = sub.add_parser("engines", help="list engines, their capabilities and whether weights are here")
    eng.add_argument("--json", action="store_true", help="print JSON instead of a table")
    eng.set_defaults(run=_engines, parser=eng)
    return ap


def _check_output(out: Path | None, store: Path | None) -> Path | None:
    """The video path to write (None: only the store): a known suffix, in a folder that exists."""
    from . import InvalidInput

    if out is None:
        if store is None:
            raise InvalidInput("output", None, "must be given: -o OUT.mp4, --store DIR, or both")
        return None
    given, out = str(out), out.expanduser()
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise InvalidInput("output", given, "must end in " + ", ".join(VIDEO_SUFFIXES))
    if out.with_suffix(".json").is_dir():
        raise InvalidInput("output", given, f"must not name a folder ({out.with_suffix('.json')} is one)")
    from .files import check_writable

    return check_writable(out, "output", given)       # now, not after minutes of rendering


def _check_clip_output(out: Path | None, given) -> Path | None:
    """Before rendering: the clip's JSON beside `out` may not replace a film's, or a file that
    is not a clip's JSON (checked again, with the clip's id, when the clip is written)."""
    if out is not None:
        from .clip import check_sidecar_free

        check_sidecar_free(out, None, "output", str(given))
    return out


def _check_store(folder: Path | None) -> Path | None:
    """The project folder, checked before any rendering, made only when the clip is written."""
    if folder is None:
        return None
    from .store import check_project_folder

    return check_project_folder(folder, "store")


def _write(clip, out: Path | None, folder: Path | None) -> list[str]:
    """Write the clip where asked; what was written, for the summary line."""
    written = [str(p) for p in _save_atomically(clip, out)] if out is not None else []
    if folder is not None:
        from .store import Store

        store = Store(folder)
        store.add(clip)
        written.append(f"clip {clip.id} in {store.path}")
    return written


# ---- generate ------------------------------------------------------------------------------
def _generate(args) -> int:
    from . import generate
    from .options import generate_kwargs
    from .tiny.planner import plan_note

    out = _check_clip_output(_check_output(args.output, args.store), args.output)
    store = _check_store(args.store)
    clip = generate(args.prompt, **generate_kwargs(args), progress=not args.no_progress)
    written = _write(clip, out, store)
    shot = clip.shot
    note = plan_note(clip.provenance)
    print(f"wrote {' and '.join(written)} ({shot.frames} frames, {shot.width}x{shot.height}, "
          f"{shot.fps:g} fps, seed {shot.seed}{'; ' + note if note else ''})")
    return EXIT_OK


# ---- extend --------------------------------------------------------------------------------
def _extend(args) -> int:
    out = _check_output(args.output, args.store)
    clip, source = _clip_to_extend(args)
    if out is not None and source is not None and \
            out.with_suffix(".json").resolve() == source.with_suffix(".json").resolve():
        # the clip being continued, or its JSON, would be replaced by the longer one
        from . import InvalidInput

        raise InvalidInput("output", str(args.output), "must not be the clip being extended or share its "
                           "JSON file", "Write the longer clip under another name.")
    _check_clip_output(out, args.output)
    store = _check_store(args.store)
    kept = None if source is None else _stored(store, clip.id)
    if kept is not None:
        clip = kept                         # the frames as made, not the video's lossy copy
    exact = (source is None or kept is not None) and not clip.lossy   # stored from a video: its copy
    seconds = args.seconds
    if args.to is not None:
        if not (math.isfinite(args.to) and args.to > clip.duration):
            from . import InvalidInput

            raise InvalidInput("to", args.to, f"must be a length in seconds longer than the clip's "
                               f"{clip.duration:g} s")
        seconds = args.to - clip.duration
    # From a video file alone the continuation conditions on the frames as the file holds
    # them: H.264 is lossy (2.5 grey levels on average at 64 × 64), so the new frames can
    # differ slightly from clip.extend's on the frames in memory (0.4 grey levels on average
    # in a 2-s test). A clip kept in --store is continued from its exact frames.
    from .options import load_kwargs

    longer = clip.extend(seconds, prompt=args.prompt, camera=args.camera, engine=args.engine,
                         context=args.context, blend=args.blend, guidance=args.guidance,
                         device=args.device, progress=not args.no_progress, **load_kwargs(args))
    written = _write(longer, out, store)
    print(f"wrote {' and '.join(written)} ({len(longer)} frames, {longer.duration:.2f} s: "
          f"{clip.duration:.2f} s + {len(longer) - len(clip)} new frames, seed {longer.shot.seed}"
          f"{'' if exact else '; continued from the video file'})")
    return EXIT_OK


def _clip_to_extend(args):
    """The clip named on the command line and its video file (None when it came from the
    store by id). A path that exists is a file; otherwise it may be a clip id in --store."""
    from . import InvalidInput
    from .clip import Clip

    source = Path(args.clip).expanduser()
    if not source.is_file():
        if args.store is not None:
            folder = args.store.expanduser()
            clip = _stored(folder, args.clip)
            if clip is not None:
                return clip, None
            if not (folder / "clips").is_dir():
                raise InvalidInput("clip", args.clip, f"must be an existing video file or the id of a "
                                   f"clip in {folder}", f"{folder} is not a project folder yet.")
            from .store import Store

            raise InvalidInput("clip", args.clip, f"must be an existing video file or the id of a clip "
                               f"in {folder}", _some_ids(Store(folder)))
        raise InvalidInput("clip", args.clip, "must be an existing video file (or, with --store DIR, "
                           "the id of a clip there)")
    if not source.with_suffix(".json").is_file():
        raise InvalidInput("clip", args.clip, "must have the JSON that runway-nb wrote beside it "
                           f"({source.with_suffix('.json').name}): it holds the Shot to continue")
    clip = Clip.load(source)
    if clip.shot is None:
        raise InvalidInput("clip", args.clip, f"must have a clip's JSON beside it, with the Shot that made "
                           f"it: {source.with_suffix('.json').name} holds none (a film's JSON?)",
                           "Only clips made by generate or extend can be continued.")
    return clip, source


def _stored(folder: Path | None, clip_id: str | None):
    """The clip kept under `clip_id` in the project folder, or None (no folder, no such clip);
    looking never makes the folder."""
    if folder is None or clip_id is None or not (folder / "clips").is_dir():
        return None
    from .store import Store

    store = Store(folder)
    return store.load_clip(clip_id) if clip_id in store else None


def _some_ids(store) -> str:
    entries = store.gallery()
    if not entries:
        return "That folder holds no clips yet."
    shown = ", ".join(f"{e.id} ({e.prompt[:30]!r})" for e in entries[:3])
    return f"Its newest: {shown}" + (f" and {len(entries) - 3} more." if len(entries) > 3 else ".")


def _save_atomically(clip, out: Path) -> tuple[Path, Path]:
    """Save into a hidden temp folder beside `out`, then move video and JSON into place:
    a failed or interrupted save leaves no half-written file under the user's name."""
    from .clip import check_sidecar_free
    from .errors import InvalidInput

    try:
        check_sidecar_free(out, clip.id, "output")   # clip.save below sees only the temp folder
    except InvalidInput as exc:
        # Only another clip's record (with that clip's video beside it) is found this late:
        # the others were refused before rendering. The render is not thrown away for it.
        free = out.with_name(f"{out.stem}-{clip.id}{out.suffix}")
        print(f"warning: {exc} Saved this render as {free.name} instead.", file=sys.stderr)
        out = free
    sidecar = out.with_suffix(".json")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", suffix=".tmp", dir=out.parent))
    try:
        clip.save(tmp / out.name)
        tmp_sidecar = tmp / sidecar.name
        if not tmp_sidecar.is_file():  # Clip.save writes it; keep the CLI's promise regardless
            tmp_sidecar.write_text(_shot_json(clip), encoding="utf-8")
        os.replace(tmp_sidecar, sidecar)
        os.replace(tmp / out.name, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out, sidecar


def _shot_json(clip) -> str:
    import json

    return json.dumps({"shot": clip.shot.to_dict(), "provenance": clip.provenance}, indent=1)


# ---- render --------------------------------------------------------------------------------
def _render(args) -> int:
    from . import InvalidInput
    from .export.film import load_film

    out = _check_output(args.output, None)
    film = load_film(args.film)
    if out.with_suffix(".json").resolve() == Path(args.film).expanduser().resolve():
        # the film's sidecar would replace the film file being read (and its links to media)
        raise InvalidInput("output", str(args.output), "must not share the film file's name: "
                           f"{out.with_suffix('.json').name} would replace it",
                           f"Write e.g. {out.stem}_render{out.suffix}.")
    store = None
    from .export.film import film_links

    film_links(out.with_suffix(".json"), field="output")   # a JSON there not a film's: refused now,
    if args.rerender:                                       # not after the film is re-rendered
        film.folder = None          # ignore the video files: every clip comes from its Shot
    else:
        store = _film_store(args.store, Path(args.film).expanduser())
    seq = film.to_sequence(store=store, render=True)
    out = seq.save(out)
    print(f"wrote {out} ({len(seq.frames())} frames)")
    return EXIT_OK


def _film_store(folder: Path | None, film: Path):
    """The project whose clips a film takes first: --store, else the project folder the film
    was saved in (Store.save_sequence writes <project>/sequences/NAME.json), else none."""
    from .store import Store

    if folder is None:
        project = film.resolve().parent.parent
        if film.resolve().parent.name != "sequences" or not (project / "clips").is_dir():
            return None
        folder = project
    elif not (folder.expanduser() / "clips").is_dir():
        from . import InvalidInput

        raise InvalidInput("store", str(folder), "must be a project folder (one with a clips/ folder, as "
                           "rn.Store or the Studio make)")
    return Store(folder)


# ---- bench ---------------------------------------------------------------------------------
def _bench(args) -> int:
    from .bench import report

    report(args)
    return EXIT_OK


# ---- engines -------------------------------------------------------------------------------
def _capabilities(row: dict) -> dict | None:
    """Capabilities from the registry row, or from loading the engine when its weights are here."""
    caps = row.get("capabilities")
    if caps is None and row.get("weights_available"):
        from .engines.registry import load_engine

        caps = load_engine(row["id"]).capabilities
    if caps is not None and hasattr(caps, "as_dict"):
        caps = caps.as_dict()
    return caps


def _engines(args) -> int:
    import json

    from .engines.registry import list_engines

    rows = []
    for row in list_engines():
        rows.append({**row, "capabilities": _capabilities(row)})
    if args.json:
        print(json.dumps(rows, indent=1, default=list))
        return EXIT_OK
    width = max((len(row["id"]) for row in rows), default=0)     # the id column fits the longest id
    for row in rows:
        here = "weights here" if row.get("weights_available") else "weights NOT installed"
        print(f"{row['id']:<{width}} {row.get('description', '')}  [{here}]")
        caps = row["capabilities"]
        if caps:
            modes = [m for m in ("text_to_video", "image_to_video", "extend") if caps.get(m)]
            sizes = ", ".join(f"{w}x{h}" for w, h in caps.get("sizes", ()))
            fps = ", ".join(f"{f:g}" for f in caps.get("fps", ()))
            camera = ", ".join(caps.get("camera_modes", ())) or "none"
            motion = ", ".join(caps.get("motion_modes", ())) or "native"
            print(f"{'':<{width}} {', '.join(modes)}; sizes {sizes}; fps {fps}; camera {camera}; "
                  f"motion {motion}; "
                  f"up to {caps.get('max_frames')} frames; defaults {caps.get('default_frames')} frames, "
                  f"{caps.get('default_steps')} steps, guidance {caps.get('default_guidance'):g}")
    return EXIT_OK


# ---- entry point ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (also used as `sys.exit(main())`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the embedded engine never needs the network
    from .errors import RunwayError, say_failure

    args = _parser().parse_args(argv)   # argparse itself exits 2 on a malformed command line
    try:
        return args.run(args)
    except BrokenPipeError:             # `runway-nb engines --json | head`: the reader has stopped
        try:                            # reading; nothing to say, and nothing left to flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):   # no real stdout (captured): nothing to silence
            pass
        return EXIT_ERROR
    except (RunwayError, OSError) as exc:   # not allowed (2), or in the way: weights, a full disk (1)
        return say_failure("runway-nb", exc, args.parser)
    except KeyboardInterrupt:
        print("runway-nb: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
