"""Image→video through the public API: `rn.generate(prompt, image=...)`, `--image` on the
CLI and %%runway. The picture is fitted to the clip's size and recorded in provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import runway_nb as rn
from runway_nb import InvalidInput, UnsupportedCapability
from runway_nb.cli import main
from runway_nb.image import first_frame


def test_a_picture_of_another_shape_fills_the_frame_centre_cropped(tmp_path):
    wide = np.zeros((40, 120, 3), np.uint8)
    wide[:, 40:80] = 255                                   # a white centre third
    frame, note = first_frame(wide, 32, 32)
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    assert frame.min() > 200                               # the square centre, not a squeezed strip
    assert note["size"] == [120, 40] and note["fitted_to"] == [32, 32] and note["source"] == "array"
    Image.fromarray(wide).save(tmp_path / "wide.png")
    again, note = first_frame(tmp_path / "wide.png", 32, 32)
    np.testing.assert_array_equal(again, frame)
    assert note["source"] == "wide.png"
    grey, _ = first_frame(np.full((32, 32), 7, np.uint8), 32, 32)    # greyscale and the exact size
    assert (grey == 7).all()


@pytest.mark.parametrize("image, words", [
    ("missing.png", "No file at"),
    ("notes.png", "not a picture"),
    (np.zeros((8, 8, 3), np.float32), "array float32"),
    (np.zeros((2, 8, 8, 3), np.uint8), "(2, 8, 8, 3)"),
    (42, "int"),
])
def test_what_is_not_a_picture_is_refused_by_name(tmp_path, monkeypatch, image, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.png").write_text("not a png")
    with pytest.raises(InvalidInput) as err:
        first_frame(image, 32, 32)
    assert err.value.field == "image" and words in str(err.value)


def test_a_phone_photo_is_read_upright_from_its_exif_orientation(tmp_path):
    """A phone stores a portrait shot sideways with EXIF Orientation = 6; viewers turn it."""
    upright = np.zeros((60, 40, 3), np.uint8)
    upright[:30] = (255, 0, 0)                               # red sky over a blue sea
    upright[30:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(
        tmp_path / "phone.jpg", quality=95, exif=exif.tobytes())
    for given in (tmp_path / "phone.jpg", Image.open(tmp_path / "phone.jpg")):
        frame, note = first_frame(given, 40, 60)
        assert note["size"] == [40, 60] and note["exif_orientation"] == 6 and "fitted_to" not in note
        assert frame[5, 20, 0] > 200 and frame[5, 20, 2] < 50          # red on top
        assert frame[55, 20, 2] > 200 and frame[55, 20, 0] < 50        # blue below
    _, plain = first_frame(upright, 40, 60)
    assert "exif_orientation" not in plain


def test_a_16_bit_picture_is_scaled_to_8_bits_not_clipped(tmp_path):
    grey = np.array([[0, 32768, 65535]], np.uint16).repeat(3, axis=0)
    Image.fromarray(grey).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    frame, note = first_frame(tmp_path / "grey16.png", 3, 3)
    np.testing.assert_array_equal(frame[1, :, 0], [0, 128, 255])      # mid-grey stays mid-grey
    assert (frame == frame[..., :1]).all() and note["bit_depth"] == 16


def test_transparency_is_flattened_over_white_and_recorded(tmp_path):
    logo = np.zeros((8, 8, 4), np.uint8)
    logo[2:6, 2:6] = (200, 0, 0, 255)                        # an opaque red square on nothing
    logo[0, 0] = (0, 0, 255, 128)                            # one half see-through blue pixel
    Image.fromarray(logo).save(tmp_path / "logo.png")
    for given in (logo, tmp_path / "logo.png"):
        frame, note = first_frame(given, 8, 8)
        assert (frame[7, 7] == 255).all()                    # see-through: white, not black
        np.testing.assert_array_equal(frame[3, 3], [200, 0, 0])
        np.testing.assert_array_equal(frame[0, 0], [127, 127, 255])    # half blue over white
        assert note["background"] == "white"
    opaque = logo.copy()
    opaque[..., 3] = 255
    frame, note = first_frame(opaque, 8, 8)
    assert "background" not in note and (frame[7, 7] == 0).all()


def test_a_picture_over_pils_pixel_limit_is_refused_by_name(tmp_path, monkeypatch):
    import PIL.Image

    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "huge.png")
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 100)     # 600 pixels > 2 × 100
    with pytest.raises(InvalidInput) as err:
        first_frame(tmp_path / "huge.png", 8, 8)
    assert err.value.field == "image"
    text = str(err.value)
    assert str(tmp_path / "huge.png") in text and "600 pixels" in text and "at most 200 pixels" in text


def test_an_image_to_video_checkpoint_starts_from_the_picture(tiny_pipelines):
    """wan-i2v makes video from an image only: with `image=` it renders, frame 0 the picture
    as the pipeline re-makes it (random weights here: only that it ran and what it recorded)."""
    engine = rn.load_engine(str(tiny_pipelines["wan-i2v"]))
    with pytest.raises(UnsupportedCapability, match="image='photo.png'"):
        rn.generate("a kite", engine=engine, frames=5, steps=2, seed=1, progress=False)
    w, h = engine.capabilities.default_size
    photo = np.random.default_rng(0).integers(0, 256, (h * 2, w * 3, 3), dtype=np.uint8)
    clip = rn.generate("a kite", engine=engine, frames=5, steps=2, seed=1, progress=False, image=photo)
    assert clip.frames.shape[1:] == (h, w, 3)
    assert clip.provenance["image"]["fitted_to"] == [w, h]


def test_the_tiny_engine_continues_from_the_picture(smoke_pipeline):
    a = rn.generate("a red circle on a blue background", engine=str(smoke_pipeline), frames=4, steps=2,
                    seed=1, progress=False)
    from_a = rn.generate("a red circle", engine=str(smoke_pipeline), frames=4, steps=2, seed=2,
                         progress=False, image=a.frames[-1])
    plain = rn.generate("a red circle", engine=str(smoke_pipeline), frames=4, steps=2, seed=2, progress=False)
    assert from_a.provenance["image"]["source"] == "array" and "fitted_to" not in from_a.provenance["image"]
    assert not np.array_equal(from_a.frames, plain.frames)             # the picture changed the clip


def test_an_engine_that_cannot_start_from_a_picture_says_so(tiny_pipelines):
    engine = rn.load_engine(str(tiny_pipelines["animatediff"]))
    with pytest.raises(UnsupportedCapability) as err:
        rn.generate("a kite", engine=engine, frames=8, steps=2, progress=False,
                    image=np.zeros((8, 8, 3), np.uint8))
    assert err.value.field == "engine" and err.value.value == engine.id and "text only" in str(err.value)
    assert "wan-i2v" in str(err.value)                     # the engines that can


@pytest.mark.parametrize("engine_id", ["cogvideox", "wan", "animatediff", "modelscope"])
def test_an_engine_id_that_cannot_start_from_a_picture_is_refused_before_it_loads(engine_id, monkeypatch):
    """Loading wan means downloading tens of gigabytes: its documented capabilities say no first."""
    from dataclasses import replace

    from runway_nb.engines import registry

    registry.engine_ids()
    entry = registry._ENTRIES[engine_id]
    assert not entry.capabilities().image_to_video           # what `rn.list_engines()` shows
    monkeypatch.setitem(registry._ENTRIES, engine_id, replace(
        entry, factory=lambda *a, **k: pytest.fail(f"{engine_id} was loaded before refusing")))
    with pytest.raises(UnsupportedCapability) as err:
        rn.generate("a red ball", engine=engine_id, image=np.zeros((64, 64, 3), np.uint8), progress=False)
    assert (err.value.field, err.value.value) == ("engine", engine_id)
    assert "tiny, cogvideox-i2v, ltx, wan-i2v" in str(err.value)


@pytest.mark.parametrize("engine_id", ["cogvideox-i2v", "wan-i2v"])
def test_an_image_only_engine_id_without_a_picture_is_refused_before_it_loads(engine_id, monkeypatch):
    # before: the whole checkpoint loaded (online: downloaded), then "init_frames=None is not allowed"
    from dataclasses import replace

    from runway_nb.engines import registry

    registry.engine_ids()
    entry = registry._ENTRIES[engine_id]
    assert not entry.capabilities().text_to_video
    monkeypatch.setitem(registry._ENTRIES, engine_id, replace(
        entry, factory=lambda *a, **k: pytest.fail(f"{engine_id} was loaded before refusing")))
    with pytest.raises(UnsupportedCapability) as err:
        rn.generate("a red ball", engine=engine_id, progress=False)
    assert (err.value.field, err.value.value) == ("engine", engine_id)
    assert "needs image=" in str(err.value) and "tiny" in str(err.value)


def test_the_cli_takes_image(smoke_pipeline, tmp_path):
    Image.fromarray(np.full((80, 100, 3), 200, np.uint8)).save(tmp_path / "photo.png")
    out = tmp_path / "a.mp4"
    assert main(["generate", "a red circle", "--engine", str(smoke_pipeline), "--frames", "4", "--steps", "2",
                 "--no-progress", "--image", str(tmp_path / "photo.png"), "-o", str(out)]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["provenance"]["image"]["source"] == "photo.png"
    assert main(["generate", "a red circle", "--engine", str(smoke_pipeline), "--frames", "4",
                 "--no-progress", "--image", str(tmp_path / "none.png"), "-o", str(tmp_path / "b.mp4")]) == 2
    assert not (tmp_path / "b.mp4").exists()
