"""Type to find: matching (prefix, contains, letters in order, misspellings), the finder's keys,
the dispatcher between finder and key map, and key splitting (arrow keys are one key)."""

from __future__ import annotations

from semeq_live.ui.finder import TermFinder, match_terms
from semeq_live.ui.keyboard import KeyDispatcher, key_help_items, split_keys

VOCAB = ["warm", "bright", "clear", "full", "cold", "soft", "harsh", "soothing", "warmth",
         "sharp", "crisp", "smooth", "dark", "airy", "tinny", "thin"]
PALETTE = ["warm", "cold", "bright", "dark", "soft", "harsh"]
CERTAINTY = {w: "high" for w in VOCAB} | {"warmth": "low", "tinny": "medium"}


def test_prefix_then_contains_then_letters_in_order_then_misspellings():
    assert match_terms("warm", VOCAB)[:2] == ["warm", "warmth"]  # exact first
    assert match_terms("wa", VOCAB)[:2] == ["warm", "warmth"]
    assert match_terms("ar", VOCAB, PALETTE, CERTAINTY)[:4] == ["harsh", "dark", "warm", "sharp"] \
        or set(match_terms("ar", VOCAB)[:5]) >= {"warm", "harsh", "dark", "sharp", "warmth"}
    assert match_terms("brt", VOCAB) == ["bright"]  # letters in order, with gaps
    assert match_terms("smth", VOCAB)[0] == "smooth"
    assert "bright" in match_terms("brigth", VOCAB)  # a typo still finds it
    assert match_terms("xyz", VOCAB) == []
    # prefix matches outrank words that merely contain the letters
    ranked = match_terms("s", VOCAB)
    assert ranked.index("soft") < ranked.index("harsh")


def test_palette_words_and_certain_words_come_first_within_a_group():
    ranked = match_terms("t", VOCAB, PALETTE, CERTAINTY)
    starts = [w for w in ranked if w.startswith("t")]
    assert starts == ["thin", "tinny"]  # both prefix matches; the medium-certainty one after
    assert match_terms("", VOCAB, PALETTE)[:len(PALETTE)] == PALETTE  # nothing typed: the palette
    assert match_terms("", VOCAB, PALETTE)[len(PALETTE):] == [w for w in VOCAB if w not in PALETTE]
    assert match_terms("s", VOCAB, PALETTE)[0] == "soft"  # in the palette, before smooth/sharp...


def test_finder_keys_choose_move_cancel():
    f = TermFinder(VOCAB, PALETTE, CERTAINTY)
    assert not f.active and f.key("a") is None and f.view() is None
    f.open("b")
    view = f.view()
    assert view["slot"] == "b" and view["candidates"][:len(PALETTE)] == PALETTE[:12]
    for ch in "so":
        assert f.key(ch) is None
    assert f.candidates()[:2] == ["soft", "soothing"]
    assert f.key("tab") is None and f.view()["selected"] == 1
    assert f.key("up") is None and f.view()["selected"] == 0
    assert f.key("backtab") is None and f.view()["selected"] == len(f.candidates()) - 1
    f.key("down")
    assert f.key("enter") == ("set", {"term_b": "soft"}) and not f.active
    f.open("a")
    for ch in "zq":
        f.key(ch)
    assert f.key("enter") is None and f.active and "no word matches 'zq'" in f.view()["message"]
    f.key("backspace")
    f.key("backspace")
    f.key("W")  # capitals are typed as lower case
    assert f.view()["query"] == "w" and f.candidates()[0] == "warm"
    assert f.key("esc") is None and not f.active


def test_dispatcher_routes_keys_and_panic_always_works():
    sent = []
    f = TermFinder(VOCAB, PALETTE)
    d = KeyDispatcher(sent.append, f)
    d.on_key(".")
    assert sent == [("add", "alpha", 0.05)]
    d.on_key("/")
    assert f.active and f.slot == "a"
    for key in ["c", "r", "i", " ", "q"]:  # while typing, letters and space are the finder's
        d.on_key(key)
    assert sent == [("add", "alpha", 0.05)] and f.query == "criq"
    d.on_key("!")  # panic, even mid-search
    assert sent[-1] == ("action", "panic")
    for _ in "iq":
        d.on_key("backspace")
    d.on_key("enter")
    assert sent[-1] == ("set", {"term_a": "crisp"}) and not f.active
    d.on_key("?")
    assert f.slot == "b"
    d.on_key("esc")
    d.on_key("q")  # the finder is closed: q quits again
    assert sent[-1] == ("action", "quit")
    plain = KeyDispatcher(sent.append)  # without a finder '/' is just an unmapped key
    plain.on_key("/")
    assert sent[-1] == ("action", "quit")


def test_split_keys_recognises_special_keys_and_drops_unknown_sequences():
    assert split_keys("ab") == ["a", "b"]
    assert split_keys("\x1b[A\x1b[B\x1bOA\x1b[Z") == ["up", "down", "up", "backtab"]
    assert split_keys("\r\n\t\x7f\x08") == ["enter", "enter", "tab", "backspace", "backspace"]
    assert split_keys("\x1b") == ["esc"]
    assert split_keys("\x1b[15~x\x1b[1;5Cy") == ["x", "y"]  # F5, Ctrl-Right: ignored whole
    # an arrow key is not Esc + '[' + 'A': before, 'A' stepped term A
    assert "A" not in split_keys("\x1b[A")


def test_key_help_lists_every_key_and_the_finder():
    items = " ".join(key_help_items())
    assert "/ ? find A/B" in items and "q quit" in items and "space bypass" in items
    from semeq_live.ui.sections import pack as _pack

    assert len(_pack(key_help_items(), 80)) == 2  # two lines of an 80-column terminal...
    assert len(_pack(key_help_items(), 80)[1]) <= 70  # ...with room for a key more
