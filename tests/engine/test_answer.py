from start_tui.engine.answer import extract_answer, last_boxed


def test_last_boxed_wins_and_braces_balance():
    text = r"first \boxed{1} then \boxed{\frac{1}{2}} done"
    assert last_boxed(text) == r"\frac{1}{2}"


def test_unclosed_boxed_is_ignored():
    assert last_boxed(r"\boxed{12} and \boxed{3") == "12"


def test_fbox_and_spaces():
    assert last_boxed(r"\fbox {42}") == "42"


def test_answer_line_when_no_box():
    assert extract_answer("work...\nFinal answer: 42.\n") == "42"
    assert extract_answer("so The answer is $7$") == "7"


def test_the_later_prefix_wins():
    assert extract_answer("The answer is 3\nFinal answer: 4") == "4"


def test_no_answer():
    assert extract_answer("I am not sure.") is None
