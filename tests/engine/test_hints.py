from pathlib import Path

import pytest

from start_tui.engine.hints import CODE_FENCE, HintChooser, HintLibrary, HintPolicy, default_hints_dir
from start_tui.errors import StartTuiError

PAPER_CATEGORIES = [
    "complex_calculations",
    "self_reflection",
    "logic_check",
    "alternative_method",
    "general",
    "explore_deeply",
]


def test_the_shipped_library_has_the_papers_six_math_hints_and_a_debug_hint():
    library = HintLibrary.load()
    assert [c for c in library.categories("math") if c != "error_fix"] == PAPER_CATEGORIES
    debug = library.get("code", "debug")
    assert "def check(solve, samples)" in debug.template
    assert debug.render().startswith(debug.text + CODE_FENCE)


def test_every_hint_renders_with_an_opened_python_fence():
    for hint in HintLibrary.load().hints:
        assert CODE_FENCE in hint.render()


def test_the_default_folder_is_found_from_a_checkout():
    assert (default_hints_dir() / "math.toml").is_file()


def test_seeded_choice_is_reproducible_and_seed_dependent():
    library = HintLibrary.load()
    first = [HintChooser(library, HintPolicy(seed=3)).choose().category for _ in range(1)]
    a = HintChooser(library, HintPolicy(seed=3))
    b = HintChooser(library, HintPolicy(seed=3))
    c = HintChooser(library, HintPolicy(seed=4))
    seq_a = [a.choose().category for _ in range(20)]
    assert seq_a == [b.choose().category for _ in range(20)]
    assert seq_a != [c.choose().category for _ in range(20)]
    assert seq_a[0] == first[0]
    assert "error_fix" not in seq_a


def test_fixed_category():
    chooser = HintChooser(HintLibrary.load(), HintPolicy(fixed_category="logic_check"))
    assert {chooser.choose().category for _ in range(5)} == {"logic_check"}


def test_user_libraries_are_read_and_checked(tmp_path: Path):
    (tmp_path / "mine.toml").write_text('domain = "math"\n[[hint]]\ncategory = "mine"\ntext = "Let me compute."\n')
    library = HintLibrary.load(tmp_path)
    assert library.get("math", "mine").render() == "Let me compute." + CODE_FENCE
    (tmp_path / "bad.toml").write_text("[[hint]\n")
    with pytest.raises(StartTuiError, match="not valid TOML"):
        HintLibrary.load(tmp_path)


def test_a_hint_without_text_or_with_unknown_keys_is_refused(tmp_path: Path):
    (tmp_path / "a.toml").write_text('[[hint]]\ncategory = "x"\n')
    with pytest.raises(StartTuiError, match="needs a `category` and a `text`"):
        HintLibrary.load(tmp_path)
    (tmp_path / "a.toml").write_text('[[hint]]\ncategory = "x"\ntext = "t"\ncolour = 1\n')
    with pytest.raises(StartTuiError, match="unknown keys: colour"):
        HintLibrary.load(tmp_path)


def test_policy_validation():
    library = HintLibrary.load()
    with pytest.raises(StartTuiError, match="no 'nope' hint"):
        HintPolicy(fixed_category="nope").validate(library)
    with pytest.raises(StartTuiError, match="between 0 and 1"):
        HintPolicy(conjunction_probability=2).validate(library)
    with pytest.raises(StartTuiError, match="0 or more"):
        HintPolicy(max_tool_calls=-1).validate(library)
