"""The contract every engine keeps (STYLE.md point 3). A test module for an engine
subclasses `EngineContract` and provides an `engine` fixture plus `small_shot()`."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from runway_nb import Shot
from runway_nb.errors import Cancelled, UnsupportedCapability


class EngineContract:
    steps = 3

    def small_shot(self, **changes) -> Shot:  # overridden per engine when needed
        base = dict(prompt="a red circle moving right on a blue background", seed=3, steps=self.steps)
        return Shot(**{**base, **changes})

    def test_same_shot_gives_identical_frames(self, engine):
        shot = self.small_shot()
        a = engine.render(shot, progress=False)
        b = engine.render(shot, progress=False)
        assert a.frames.dtype == np.uint8 and a.frames.ndim == 4
        np.testing.assert_array_equal(a.frames, b.frames)

    def test_different_seed_gives_different_frames(self, engine):
        a = engine.render(self.small_shot(seed=1), progress=False)
        b = engine.render(self.small_shot(seed=2), progress=False)
        assert not np.array_equal(a.frames, b.frames)

    def test_on_step_gets_a_preview_every_step(self, engine):
        seen = []
        clip = engine.render(self.small_shot(), on_step=seen.append, progress=False)
        assert [s.step for s in seen] == list(range(1, len(seen) + 1))
        assert len(seen) == seen[-1].total and len(seen) >= self.steps
        for info in seen:
            assert info.preview.dtype == np.uint8 and info.preview.ndim == 4
            assert info.preview.shape[-1] == 3 and info.preview.shape[0] >= 1
        # the preview of the last step is a rough picture of the result
        assert seen[-1].preview.shape[1:3] == clip.frames.shape[1:3]

    def test_cancel_stops_within_one_step(self, engine):
        cancel = threading.Event()
        seen = []

        def on_step(info):
            seen.append(info.step)
            if info.step == 2:
                cancel.set()

        with pytest.raises(Cancelled):
            engine.render(self.small_shot(), on_step=on_step, cancel=cancel, progress=False)
        assert seen == [1, 2]

    def test_unsupported_size_is_refused_before_any_work(self, engine):
        seen = []
        with pytest.raises(UnsupportedCapability) as err:
            engine.render(self.small_shot(width=8, height=8), on_step=seen.append, progress=False)
        assert "size" in str(err.value) and "8x8" in str(err.value)
        assert seen == []

    def test_clip_carries_the_resolved_shot_and_provenance(self, engine):
        shot = self.small_shot()
        clip = engine.render(shot, progress=False)
        assert clip.shot == engine.resolve(shot)
        assert clip.shot.frames == len(clip.frames) and clip.fps == clip.shot.fps
        assert clip.provenance["engine"] == engine.id
        # the resolved shot alone re-makes the clip
        again = engine.render(Shot.from_json(clip.shot.to_json()), progress=False)
        np.testing.assert_array_equal(again.frames, clip.frames)
