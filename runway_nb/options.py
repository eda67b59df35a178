"""The generation options shared by the CLI (`runway-nb generate`) and `%%runway`.

    parser = argparse.ArgumentParser(parents=[generate_options()])
    args = parser.parse_args(["--seconds", "2", "--camera", "zoom_in:0.5"])
    rn.generate(prompt, **generate_kwargs(args))

One definition, so the magic and the command line accept the same flags with the same
meaning. argparse only checks types here; ranges (fps > 0, seed ≤ 2**63 − 1, sizes the
engine makes…) are checked by `Shot` and the engine, whose messages name the field.

How the engine loads (`load_options`, also on `runway-nb extend`): `--device cuda`,
`--dtype bfloat16` and `--engine-option KEY=VALUE`, repeated, for `load_engine`'s options
(`cpu_offload=true|sequential`, `vae_slicing=true`, `vae_tiling=true`, `revision=…`…).
A value `true` / `false` is a boolean and one in braces or brackets JSON; anything else is
text. The engine refuses, by name, a device, dtype or option it does not take.
"""

from __future__ import annotations

import argparse
import json


def number(low: float, kind=int, above: bool = False):
    """An argparse `type=`: a finite `kind` (int or float) ≥ `low` (> `low` with `above`), so
    a benchmark's `--runs 0` is a usage error, not a StatisticsError after minutes of work."""
    import math

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if not math.isfinite(value) or value < low or (above and value == low):
            raise argparse.ArgumentTypeError(f"{text} is not allowed: must be {'>' if above else '≥'} {low:g}")
        return value

    return parse


def as_flag(ap: argparse.ArgumentParser | None, exc):
    """`exc` naming the command line's flag where its field is one of `ap`'s options
    (`--pool-size=0 is not allowed`), not the setting's name the user never typed
    (`pool_size=0`); any other exception as it is."""
    from .errors import InvalidInput

    if ap is None or not isinstance(exc, InvalidInput):
        return exc
    for action in ap._actions:
        if action.option_strings and action.dest == exc.field:
            flag = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
            return InvalidInput(flag, exc.value, exc.allowed, exc.hint)
    return exc


def flag_error(ap: argparse.ArgumentParser, exc) -> None:
    """`ap.error` (usage, the message, status 2) for an InvalidInput, naming its flag."""
    ap.error(str(as_flag(ap, exc)))


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: must be a whole number "
                                         "from 0 to 2**63 - 1") from None


def _engine_option(text: str) -> tuple[str, object]:
    key, eq, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not eq or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"invalid engine option {text!r}: must be KEY=VALUE, "
                                         "e.g. vae_tiling=true")
    if key in ("device", "dtype"):
        raise argparse.ArgumentTypeError(f"invalid engine option {text!r}: give the {key} as --{key}")
    value = value.strip()
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    if value[:1] in ("{", "["):
        try:
            return key, json.loads(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"invalid engine option {text!r}: the value is not "
                                             f"JSON ({exc})") from None
    return key, value


IN_KERNEL_DEVICE_HELP = ("torch device: cpu, cuda, cuda:1 or mps (default, with no --dtype or "
                         "--engine-option either: the engine this kernel already loaded under "
                         "--engine, as it was loaded; else cpu)")


def load_options(device_help: str = "torch device: cpu, cuda, cuda:1 or mps (default: cpu)",
                 device_default: str | None = "cpu") -> argparse.ArgumentParser:
    """An argparse parent parser with how the engine loads: --device, --dtype, --engine-option.
    `device_default` None (`%%runway`): no --device is `rn.generate`'s device=None, the
    engine already loaded in the kernel; the command line runs in a fresh process, on cpu."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--device", default=device_default, help=device_help)
    p.add_argument("--dtype", metavar="DTYPE",
                   help="float32, float16 or bfloat16 (default: float32 on the CPU, the model card's "
                        "on a GPU; the tiny engine runs in float32 only)")
    p.add_argument("--engine-option", dest="engine_options", action="append", type=_engine_option,
                   metavar="KEY=VALUE",
                   help="an option of load_engine, repeat for more: cpu_offload=true|sequential, "
                        "vae_slicing=true, vae_tiling=true, revision=REV, variant=fp16 (the diffusers "
                        "engines; docs/engines.md)")
    return p


def load_kwargs(args: argparse.Namespace) -> dict:
    """--dtype and --engine-option as `rn.generate`'s `dtype` and `engine_options` (given ones only)."""
    kwargs = {}
    if getattr(args, "dtype", None) is not None:
        kwargs["dtype"] = args.dtype
    if getattr(args, "engine_options", None):
        kwargs["engine_options"] = dict(args.engine_options)      # a key repeated: the last wins
    return kwargs


def generate_options(in_kernel: bool = False) -> argparse.ArgumentParser:
    """An argparse parent parser (add_help=False) with the options of one generation.
    `in_kernel` (`%%runway`): no --device uses the engine the kernel loaded (see load_options)."""
    # options straight on the parser, not in a titled group: argparse lists a mutually
    # exclusive group inherited from a parent apart from its titled group
    p = argparse.ArgumentParser(add_help=False, parents=[
        load_options(IN_KERNEL_DEVICE_HELP, None) if in_kernel else load_options()])
    p.add_argument("--engine", default="tiny", help="engine id or pipeline folder (default: tiny)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, metavar="S", help="clip length in seconds")
    length.add_argument("--frames", type=int, metavar="N", help="clip length in frames (instead of --seconds)")
    p.add_argument("--fps", type=float, metavar="F", help="frames per second (default: the engine's)")
    p.add_argument("--size", metavar="WxH", help="frame size, e.g. 64x64 (default: the engine's)")
    p.add_argument("--seed", type=_seed, metavar="N", help="random seed (default: a fresh one, recorded in the shot)")
    p.add_argument("--steps", type=int, metavar="K", help="denoising steps")
    p.add_argument("--guidance", type=float, metavar="G", help="classifier-free guidance scale")
    p.add_argument("--negative", "--negative-prompt", dest="negative_prompt", metavar="TEXT",
                   help="what to avoid")
    p.add_argument("--camera", metavar="PRESET[:INTENSITY]|SCHEDULES|FILE.json",
                   help="camera move: a preset such as pan_left or zoom_in:0.5; Deforum 2D schedules "
                        "such as 'zoom: 0:(1.0), 24:(1.04); angle: 0:(0)' (at 15 fps, 512x512 unless "
                        "parts such as 'fps: 30; W: 768; H: 432' name the run); or a camera JSON file")
    p.add_argument("--camera-mode", default="auto", choices=("auto", "native", "warp", "virtual"),
                   help="how the engine follows the camera (default: auto)")
    p.add_argument("--motion-mode", default="auto", choices=("auto", "native", "planned"),
                   help="how the prompt's object motion is made: planned follows it as a motion "
                        "brush, native leaves it to the model (default: auto, the engine's best)")
    p.add_argument("--brush", action="append", metavar="FILE.json",
                   help="a motion brush JSON file: MotionBrush.to_dict(), a list of them, or a brushed "
                        "clip's JSON (its shot's brushes); repeat for more")
    p.add_argument("--image", metavar="PICTURE",
                   help="image→video: a picture (.png, .jpg…) the clip starts from, cropped and "
                        "resized to the clip's size (engines that can: tiny, ltx, cogvideox-i2v, wan-i2v)")
    return p


GENERATE_KEYS = ("engine", "seconds", "frames", "fps", "size", "seed", "steps", "guidance",
                 "negative_prompt", "camera", "camera_mode", "motion_mode", "image", "device")


def generate_kwargs(args: argparse.Namespace) -> dict:
    """The parsed options as keyword arguments of `runway_nb.generate` (brush files read)."""
    kwargs = {k: getattr(args, k) for k in GENERATE_KEYS if hasattr(args, k)}
    kwargs.update(load_kwargs(args))
    if getattr(args, "brush", None):
        from .camera.brush import brushes_from_files

        kwargs["brushes"] = brushes_from_files(args.brush)
    return kwargs
