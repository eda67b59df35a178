"""The model's clean estimate x0 at each denoising step, read off a diffusers scheduler.

    with X0Tap(pipe.scheduler) as tap:       # for one render; `step` is restored on exit
        pipe(..., callback_on_step_end=show)  # inside `show`: tap.x0, tap.sample

A live preview should show what the model currently thinks the clip is, x0 (k-diffusion's
`denoised`), not the noisy state x_t the sampler carries: early x_t is mostly noise, while
x0 shows the composition from the first steps on. Diffusers' step callback only hands over
x_t, but every pipeline calls `scheduler.step(model_output, timestep, sample, …)` once per
step, and those three are exactly what x0 is computed from. So `X0Tap` wraps the scheduler
instance's `step` for the duration of a render (the class, and every other pipeline sharing
the scheduler class, are untouched) and records, per step:

* `sample`: the x_t the step started from, in the layout the pipeline passes it (packed
  tokens for LTX, (B·F, C, h, w) for ModelScope, …: the adapter maps it to frames);
* `x0`: the scheduler's own estimate where its output carries one (`pred_original_sample`:
  DDIM, CogVideoX's DDIM and DPM, Euler, DDPM…; `denoised`: LCM), else computed from the
  scheduler's noise level at that step, the way the scheduler itself defines it:
    - flow matching (FlowMatchEuler…, or `prediction_type="flow_prediction"` as in Wan's
      UniPC): x_t = (1 − σ)·x0 + σ·ε and the model predicts v = ε − x0, so x0 = x_t − σ·v;
    - σ-parametrised solvers (DPM-Solver, UniPC, DEIS): α_t, σ_t from the scheduler's own
      `_sigma_to_alpha_sigma_t`, then ε: x0 = (x_t − σ_t·ε)/α_t; v: x0 = α_t·x_t − σ_t·v
      (Salimans & Ho 2022, eq. 14);
    - the rest (PNDM…): ᾱ_t = `alphas_cumprod[t]`, α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), as above;
    - anything else: `x0` stays None and the preview falls back to x_t.

The wrapper calls the original `step` with the very same arguments and returns its output
unchanged, so renders are bit-identical with or without it; the extra cost is one
element-wise expression on the latents per step, and nothing when the output carries x0.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing

import torch

X0_FIELDS = ("pred_original_sample", "denoised")   # scheduler output fields holding x0


def _x0_position(scheduler_class) -> tuple[str | None, int | None]:
    """Which field of the scheduler's output dataclass holds x0, and its place in the tuple
    `step(..., return_dict=False)` returns (the order of the dataclass fields)."""
    try:
        hint = typing.get_type_hints(scheduler_class.step).get("return")
    except Exception:   # an annotation this Python cannot evaluate: read the dataclass only
        return None, None
    for option in typing.get_args(hint) or (hint,):
        if dataclasses.is_dataclass(option):
            names = [f.name for f in dataclasses.fields(option)]
            for name in X0_FIELDS:
                if name in names:
                    return name, names.index(name)
    return None, None


def _is_flow(scheduler) -> bool:
    config = scheduler.config
    return type(scheduler).__name__.startswith("FlowMatch") or \
        getattr(config, "prediction_type", None) == "flow_prediction"


def estimate_x0(scheduler, model_output: torch.Tensor, timestep, sample: torch.Tensor,
                per_token_timesteps: torch.Tensor | None = None) -> torch.Tensor | None:
    """x0 from one step's inputs, as `scheduler` defines it. Call it right *after*
    `scheduler.step(...)`: the step index the step used is then `step_index - 1`."""
    index = getattr(scheduler, "step_index", None)
    index = None if index is None else index - 1
    sigmas = getattr(scheduler, "sigmas", None)
    if _is_flow(scheduler):
        if per_token_timesteps is not None:
            # FlowMatchEuler's per-token branch (LTX conditioning) steps with dt = σ − σ_next,
            # i.e. with −v: its caller passes −v, so x0 = x_t − σ·v = x_t + σ·model_output
            sigma = (per_token_timesteps / scheduler.config.num_train_timesteps)[..., None]
            return sample + sigma.to(sample.dtype) * model_output
        if index is None or sigmas is None:
            return None
        return sample - sigmas[index].to(sample.device) * model_output
    kind = getattr(scheduler.config, "prediction_type", "epsilon")
    if kind == "sample":
        return model_output
    if index is not None and sigmas is not None and hasattr(scheduler, "_sigma_to_alpha_sigma_t"):
        alpha_t, sigma_t = scheduler._sigma_to_alpha_sigma_t(sigmas[index])
    elif getattr(scheduler, "alphas_cumprod", None) is not None and timestep is not None:
        alpha_bar = scheduler.alphas_cumprod[int(timestep)]
        alpha_t, sigma_t = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    else:
        return None
    alpha_t, sigma_t = alpha_t.to(sample.device), sigma_t.to(sample.device)
    if kind == "epsilon":
        return (sample - sigma_t * model_output) / alpha_t
    if kind == "v_prediction":
        return alpha_t * sample - sigma_t * model_output
    return None


class X0Tap:
    """Records x_t and the x0 estimate of each `scheduler.step` while the `with` block runs."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.sample: torch.Tensor | None = None     # x_t the latest step started from
        self.x0: torch.Tensor | None = None         # the model's clean estimate at that step
        self._field, self._position = _x0_position(type(scheduler))
        self._original = None

    def __enter__(self) -> "X0Tap":
        scheduler = self.scheduler
        self._own = "step" in vars(scheduler)        # already wrapped on the instance (a user's hook)
        original = self._original = scheduler.step
        signature = inspect.signature(original)

        # functools.wraps keeps the signature visible: pipelines inspect it for `eta`/`generator`
        @functools.wraps(original)
        def step(*args, **kwargs):
            out = original(*args, **kwargs)
            self._record(out, signature.bind(*args, **kwargs).arguments)
            return out

        scheduler.step = step
        return self

    def __exit__(self, *exc) -> None:
        if self._own:
            self.scheduler.step = self._original
        else:
            vars(self.scheduler).pop("step", None)   # the class's method shows through again

    def _record(self, out, arguments: dict) -> None:
        self.sample = arguments.get("sample")
        x0 = None
        if self._field is not None:
            if isinstance(out, tuple):
                x0 = out[self._position] if self._position < len(out) else None
            else:
                x0 = getattr(out, self._field, None)
        if x0 is None and self.sample is not None and "model_output" in arguments:
            x0 = estimate_x0(self.scheduler, arguments["model_output"], arguments.get("timestep"),
                             self.sample, arguments.get("per_token_timesteps"))
        self.x0 = x0
