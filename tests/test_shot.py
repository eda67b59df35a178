"""A Shot's free-form notes (meta): JSON, copied in, read-only like the rest of the Shot."""

import copy
import json
import pickle

import pytest

from runway_nb import InvalidInput, Shot


def test_meta_cannot_be_changed_in_place_by_anyone_holding_the_shot():
    """Clips share their shots: a title changed in place would change every clip's recipe
    (and, on the next save, what its JSON says) behind its back."""
    notes = {"title": "dawn", "tags": ["sky", {"take": 1}]}
    shot = Shot("a red ball", meta=notes)
    notes["tags"].append("changed later")                # the caller's dict is not the shot's
    assert shot.meta == {"title": "dawn", "tags": ["sky", {"take": 1}]}
    for change in (lambda m: m.__setitem__("title", "dusk"), lambda m: m.update(title="dusk"),
                   lambda m: m.pop("title"), lambda m: m["tags"].append("x"),
                   lambda m: m["tags"][1].__setitem__("take", 2), lambda m: m["tags"].sort()):
        with pytest.raises(TypeError, match=r"read-only.*shot.replace\(meta="):
            change(shot.meta)
    assert shot.meta == {"title": "dawn", "tags": ["sky", {"take": 1}]}
    retitled = shot.replace(meta={**shot.meta, "title": "dusk"})
    assert retitled.meta["title"] == "dusk" and shot.meta["title"] == "dawn"


def test_read_only_meta_still_reads_saves_and_copies_as_plain_json():
    shot = Shot("a red ball", meta={"title": "dawn", "tags": ["sky", {"take": 1}]})
    assert Shot.from_json(shot.to_json()) == shot
    saved = shot.to_dict()["meta"]
    assert type(saved) is dict and type(saved["tags"]) is list and type(saved["tags"][1]) is dict
    assert json.loads(json.dumps(shot.meta)) == saved
    for twin in (copy.deepcopy(shot), pickle.loads(pickle.dumps(shot)), shot.replace(seed=7)):
        assert twin.meta == shot.meta
        with pytest.raises(TypeError):
            twin.meta["title"] = "dusk"


@pytest.mark.parametrize("meta, why", [
    ([1, 2], ""),                                      # not a dict at all
    ({1: "a"}, "key 1 is not text"),                   # JSON would bring it back as '1'
    ({"a": float("nan")}, "not NaN or inf"),
    ({"a": {1, 2}}, "set is not JSON serializable"),
])
def test_meta_that_json_cannot_hold_is_refused_when_the_shot_is_made(meta, why):
    """It was accepted, and failed later, when the clip was saved."""
    with pytest.raises(InvalidInput, match=r"meta=.* is not allowed: must be a dict of JSON values"
                                           + r".*" + why.replace("(", r"\(")):
        Shot("a red ball", meta=meta)
