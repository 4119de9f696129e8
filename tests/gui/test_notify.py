"""Notifications keep the reason: long paths are shortened, never the message."""

from __future__ import annotations

import os

from eq_gui.notify import message, shorten_path, shorten_paths


def test_shorten_path_keeps_the_last_parts():
    assert shorten_path("/data/kidney/study/masks/T19.png") == "…/masks/T19.png"
    assert shorten_path("masks/T19.png") == "masks/T19.png"  # short paths stay
    assert shorten_path("/a/b.png") == "/a/b.png"


def test_reason_after_a_long_path_survives():
    text = ("/work/shared/data/kidney_aidpath_human_pas/masks/10183_mask.png: cannot decode "
            "(truncated PNG); export the mask again")
    assert shorten_paths(text) == ("…/masks/10183_mask.png: cannot decode (truncated PNG); "
                                   "export the mask again")


def test_message_names_the_context_and_home_becomes_tilde():
    home = os.path.expanduser("~")
    text = message("training", ValueError(f"{home}/eq_models/x.eqm exists"))
    assert text.startswith("EQ training: ") and "x.eqm exists" in text and home not in text
    assert message("data", ValueError("")) == "EQ data: ValueError"
