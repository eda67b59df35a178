"""Upscale and interpolate against toy-world ground truth (not a test; numbers go in the README).

    python benchmarks/bench_ops.py [--scenes 30]

Upscale: held-out scenes rendered at 64×64 are upscaled ×2 / ×4 and compared with the
same scenes rendered at 128 / 256 (PSNR in dB, SSIM). Interpolate: a 16 fps render's even
frames (an 8 fps clip) are interpolated ×2 and compared with the odd frames.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from runway_nb.ops.interpolate import interpolate_frames
from runway_nb.options import number
from runway_nb.ops.upscale import upscale_frames
from runway_nb.tiny import toyworld


def psnr(a, b):
    # identical frames (a still scene) would be infinite: cap at 60 dB so means stay finite
    mse = max(np.mean((a.astype(np.float64) - b) ** 2), 255.0**2 * 1e-6)
    return 10 * np.log10(255.0**2 / mse)


def ssim(a, b):
    """Mean SSIM over channels (Wang et al. 2004, 11×11 Gaussian window σ = 1.5)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    out = []
    for x, y in zip(a.reshape(-1, *a.shape[-3:]), b.reshape(-1, *b.shape[-3:])):
        x, y = x.astype(np.float64), y.astype(np.float64)
        blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)  # noqa: E731
        mx, my = blur(x), blur(y)
        sx, sy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
        out.append(np.mean((2 * mx * my + c1) * (2 * sxy + c2) / ((mx**2 + my**2 + c1) * (sx + sy + c2))))
    return float(np.mean(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=number(1), default=30)
    args = ap.parse_args()
    rng = np.random.default_rng(2024)
    scenes = [toyworld.sample_scene(rng, "eval") for _ in range(args.scenes)]
    print(f"{'upscale':<10}{'method':<10}{'PSNR dB':>9}{'SSIM':>8}")
    for factor in (2, 4):
        scores = {m: ([], []) for m in ("bicubic", "lanczos", "auto")}
        for s in scenes:
            low = toyworld.render(s, 4, 8.0, 64, 64)
            high = toyworld.render(s, 4, 8.0, 64 * factor, 64 * factor)
            for m, (p, q) in scores.items():
                up, used = upscale_frames(low, factor, m, engine_id="tiny")   # toy-world frames
                p.append(psnr(up, high))
                q.append(ssim(up, high))
        for m, (p, q) in scores.items():
            name = used if m == "auto" else m
            print(f"×{factor:<9}{name:<10}{np.mean(p):>9.2f}{np.mean(q):>8.3f}")
    print(f"\n{'interpolate ×2':<20}{'PSNR dB':>9}{'SSIM':>8}")
    for m in ("blend", "flow"):
        p, q = [], []
        for s in scenes:
            truth = toyworld.render(s, 17, 16.0, 64, 64)
            made = interpolate_frames(truth[::2], 2, m)
            p.append(psnr(made[1::2], truth[1::2]))
            q.append(ssim(made[1::2], truth[1::2]))
        print(f"{m:<20}{np.mean(p):>9.2f}{np.mean(q):>8.3f}")


if __name__ == "__main__":
    main()
