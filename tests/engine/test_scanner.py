from start_tui.engine.scanner import Scanner

SCAN = Scanner(think_end=("Final answer:",), stop=("\nProblem:",), conjunctions=("Wait", "Alternatively"))


def test_plain_text_is_emitted_whole():
    assert SCAN.scan("The sum is 5. ", "think", "", True) == (14, None)


def test_a_partial_fence_is_held_back():
    safe, marker = SCAN.scan("so we get ``", "think", "", True)
    assert marker is None and safe == len("so we get ")


def test_a_python_fence_opens_code():
    safe, marker = SCAN.scan("check:\n```python\nprint(1)", "think", "", True)
    assert marker is not None and marker.kind == "fence_open"
    assert safe == len("check:\n") and marker.end == len("check:\n```python\n")


def test_a_conjunction_needs_the_next_character():
    assert SCAN.scan("So 4. Wait", "think", "", True) == (len("So 4. "), None)
    safe, marker = SCAN.scan("So 4. Wait,", "think", "", True)
    assert marker is not None and marker.kind == "conjunction" and safe == len("So 4. ")


def test_a_conjunction_inside_a_word_or_sentence_is_not_a_trigger():
    assert SCAN.scan("Waiting for it. ", "think", "", True)[1] is None
    assert SCAN.scan("I Wait. ", "think", "", True)[1] is None  # not at a sentence start
    assert SCAN.scan("noWait here ", "think", "", True)[1] is None


def test_conjunctions_are_ignored_when_closed():
    assert SCAN.scan("Wait, no. ", "think", "", False) == (10, None)


def test_the_previous_character_decides_the_sentence_start():
    safe, marker = SCAN.scan("Alternatively, use", "think", ".", True)
    assert marker is not None and marker.text == "Alternatively" and safe == 0
    assert SCAN.scan("Alternatively, use", "think", "x", True)[1] is None


def test_think_end_and_stop_markers():
    safe, marker = SCAN.scan("done.\nFinal answer: 5", "think", "", True)
    assert marker is not None and marker.kind == "think_end" and safe == len("done.\n")
    safe, marker = SCAN.scan("\\boxed{5}\nProblem: next", "answer", "", True)
    assert marker is not None and marker.kind == "stop"


def test_code_mode_looks_only_for_the_closing_fence():
    safe, marker = SCAN.scan("x = 1\nWait = 2\n```\nmore", "code", "", True)
    assert marker is not None and marker.kind == "fence_close" and safe == len("x = 1\nWait = 2")
    assert SCAN.scan("x = 1\n``", "code", "", True) == (len("x = 1"), None)


def test_a_closing_fence_right_after_the_opener():
    safe, marker = SCAN.scan("```\n", "code", "", True, at_code_start=True)
    assert marker is not None and marker.kind == "fence_close" and (safe, marker.end) == (0, 3)
    assert SCAN.scan("``", "code", "", True, at_code_start=True) == (0, None)


def test_the_earliest_marker_wins():
    safe, marker = SCAN.scan("Final answer: 3\nProblem: x", "think", "\n", True)
    assert marker is not None and marker.kind == "think_end" and safe == 0
