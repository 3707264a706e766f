"""LaTeX math made readable in a terminal: the formulas reasoning models write, and the text around them."""

from __future__ import annotations

import pytest

from start_tui.mathtext import latex_to_unicode, markdown_math_for_export, markdown_with_math


@pytest.mark.parametrize(
    ("latex", "shown"),
    [
        (r"10! = 2^8 \times 3^4 \times 5^2 \times 7", "10! = 2⁸ × 3⁴ × 5² × 7"),
        (r"\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}", "∑ᵢ₌₁ⁿ i² = n(n+1)(2n+1)/6"),
        (r"\frac{1}{2}+\frac{a+b}{c}", "1/2+(a+b)/c"),
        (r"\binom{n}{k} = \frac{n!}{k!(n-k)!}", "C(n, k) = n!/(k!(n-k)!)"),
        (r"\dfrac{3}{4}", "3/4"),
        (r"\sqrt{2} \cdot \sqrt[3]{8}", "√2 · ∛8"),
        (r"\frac{\sqrt{3}}{2}", "√3/2"),
        (r"\alpha + \beta \le \pi", "α + β ≤ π"),
        (r"a_{n+1} = a_n + 2^{n-1}", "aₙ₊₁ = aₙ + 2ⁿ⁻¹"),
        (r"e^{i\pi} = -1", "e^(iπ) = -1"),
        (r"x \equiv 1 \pmod 7", "x ≡ 1 (mod 7)"),
        (r"\angle ABC = 90^\circ", "∠ABC = 90°"),
        (r"\left( \frac{a}{b} \right)^2", "( a/b )²"),
        (r"\boxed{42}", "42"),
        (r"\text{if } x \in \mathbb{R}", "if x ∈ ℝ"),
        (r"\int_0^1 x\,dx", "∫₀¹ x dx"),
    ],
)
def test_formulas_read_as_math(latex: str, shown: str):
    assert latex_to_unicode(latex) == shown


def test_latex_that_cannot_be_read_stays_as_written():
    assert latex_to_unicode(r"\frac{") == r"\frac"
    assert latex_to_unicode(r"x^{") in ("x^{", "x^")  # an unclosed group: nothing is lost or invented
    assert latex_to_unicode("") == ""


def test_markdown_math_is_rendered_outside_code_and_keeps_its_lines():
    text = (
        "So \\( x^2 = 4 \\) and $a+b$ hold; it costs $5 and $10.\n"
        "`\\(kept\\)` and\n"
        "```python\nprint('\\\\(no\\\\)', '$x$')\n```\n"
        "\\[\n\\frac{1}{2}\n\\]\nend $$\\pi^2$$"
    )
    out = markdown_with_math(text)
    assert out.count("\n") == text.count("\n")  # a streaming widget maps blocks back by line
    assert "x² = 4" in out and "a+b hold" in out and "$5 and $10" in out
    assert "`\\(kept\\)`" in out and "print('\\\\(no\\\\)', '$x$')" in out
    assert "\n\n1/2\n\nend π²" in out


def test_markdown_specials_in_a_formula_do_not_turn_into_markup():
    assert markdown_with_math(r"\(a*b*c\) and \(x_*\)") == r"a\*b\*c and x\_\*"


def test_export_writes_dollar_math_that_markdown_viewers_render():
    text = "Then \\( x^2 \\) and\n\\[ \\frac{1}{2} \\]\n`\\(code\\)` $5"
    assert markdown_math_for_export(text) == "Then $x^2$ and\n$$ \\frac{1}{2} $$\n`\\(code\\)` $5"
