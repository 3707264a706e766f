"""LaTeX math as a terminal can show it: Unicode for what Unicode can say, plain notation for the rest.

Reasoning models write their math in LaTeX (`\\( ... \\)`, `\\[ ... \\]`, `$ ... $`, `$$ ... $$`). In
Markdown the backslashes of `\\(` and `\\[` are escapes, so the delimiters vanish and the LaTeX inside
stays raw. `markdown_with_math` turns each math span of a Markdown text into readable Unicode before
the text is parsed (powers and indices as superscripts and subscripts where every character has one,
fractions as `a/b` with parentheses where needed, roots, Greek, operators), and keeps the number of
lines, so a streaming Markdown widget can map its blocks back to the source. `latex_to_unicode`
converts one LaTeX formula; `markdown_math_for_export` rewrites the delimiters as `$`/`$$`, which
Markdown viewers render. The trace keeps the source: copying takes what the model wrote.

pylatexenc parses the LaTeX; the macros it renders poorly for math (fractions, binomials, roots,
scripts, `\\pmod`, `\\boxed`) are given renderings here.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

logging.getLogger("pylatexenc").addHandler(logging.NullHandler())  # never Python's last-resort stderr under the TUI

SUPERSCRIPT = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
)
SUPERSCRIPT.update({"∘": "°", "*": "*", "′": "′", "'": "′", "−": "⁻"})
SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=True))
SUBSCRIPT["−"] = "₋"

SYMBOLS = {
    "times": "×",
    "cdot": "·",
    "div": "÷",
    "pm": "±",
    "mp": "∓",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "equiv": "≡",
    "implies": "⟹",
    "iff": "⟺",
    "to": "→",
    "rightarrow": "→",
    "Rightarrow": "⇒",
    "leftarrow": "←",
    "mapsto": "↦",
    "infty": "∞",
    "in": "∈",
    "notin": "∉",
    "subseteq": "⊆",
    "subset": "⊂",
    "cup": "∪",
    "cap": "∩",
    "emptyset": "∅",
    "forall": "∀",
    "exists": "∃",
    "circ": "∘",
    "degree": "°",
    "prime": "′",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "mid": "|",
    "nmid": "∤",
    "perp": "⊥",
    "parallel": "∥",
    "angle": "∠",
    "triangle": "△",
    "sim": "∼",
    "cong": "≅",
    "propto": "∝",
    "partial": "∂",
    "nabla": "∇",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "langle": "⟨",
    "rangle": "⟩",
}
"""Operators and relations written as their character, so the spaces around them stay (a LaTeX control
word swallows the space after it)."""
PREFIX = frozenset({"angle", "triangle", "forall", "exists", "partial", "nabla"})
"""Symbols read with what follows them (`\angle ABC` is ∠ABC): the space after them goes."""


def _arg_text(l2t: LatexNodes2Text, node: Any) -> str:
    return l2t.nodelist_to_text([node]).strip() if node is not None else ""


def _args(node: Any, n: int) -> list[Any]:
    """The last `n` arguments of a macro node (None for those missing from unbalanced LaTeX)."""
    found = list(node.nodeargd.argnlist) if node.nodeargd is not None else []
    return ([None] * n + found)[-n:]


def _grouped(text: str) -> str:
    """`text` as one operand of `/`: a product like `n(n+1)` stays; a sum, a list or a quotient gets ()."""
    depth = 0
    for c in text:
        depth += (c in "([{⌊⌈" and 1) or (c in ")]}⌋⌉" and -1) or 0
        if depth == 0 and c in " +-−=,±∓/×÷<>≤≥":
            return f"({text})"
    return text


def _frac(node: Any, l2tobj: LatexNodes2Text) -> str:
    num, den = _args(node, 2)
    if num is None or den is None:
        return str(node.latex_verbatim())
    over = _arg_text(l2tobj, den)
    if not re.fullmatch(r"[\w.!′°]+|\(.*\)|√\w+", over):  # n!/(k!(n-k)!), not n!/k!(n-k)!
        over = f"({over})"
    return f"{_grouped(_arg_text(l2tobj, num))}/{over}"


def _binom(node: Any, l2tobj: LatexNodes2Text) -> str:
    n, k = (_arg_text(l2tobj, a) for a in _args(node, 2))
    return f"C({n}, {k})"


def _sqrt(node: Any, l2tobj: LatexNodes2Text) -> str:
    index, body = _args(node, 2)
    root = {"3": "∛", "4": "∜"}.get(_arg_text(l2tobj, index), "√")
    if index is not None and root == "√":
        root = _script(_arg_text(l2tobj, index), SUPERSCRIPT, "^") + "√"
    return root + _grouped(_arg_text(l2tobj, body))


def _pmod(node: Any, l2tobj: LatexNodes2Text) -> str:
    return f" (mod {_arg_text(l2tobj, _args(node, 1)[0])})"


def _content(node: Any, l2tobj: LatexNodes2Text) -> str:
    return _arg_text(l2tobj, _args(node, 1)[0])


def _script(text: str, table: dict[str, str], mark: str) -> str:
    """`text` raised or lowered where Unicode has every character of it; `^(text)` or `_(text)` if not."""
    text = text.strip()
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


@lru_cache(maxsize=1)
def _converter() -> tuple[Any, LatexNodes2Text]:
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category(
        "start-tui-math",
        prepend=True,
        macros=[
            macrospec.std_macro("dfrac", False, 2),
            macrospec.std_macro("tfrac", False, 2),
            macrospec.std_macro("cfrac", False, 2),
            macrospec.std_macro("binom", False, 2),
            macrospec.std_macro("dbinom", False, 2),
            macrospec.std_macro("tbinom", False, 2),
            macrospec.std_macro("pmod", False, 1),
            macrospec.std_macro("boxed", False, 1),
            macrospec.std_macro("operatorname", False, 1),
            macrospec.std_macro("mathrm", False, 1),
            macrospec.std_macro("mathbf", False, 1),
            macrospec.std_macro("mathit", False, 1),
            macrospec.std_macro("textbf", False, 1),
            macrospec.std_macro("overline", False, 1),
        ],
    )
    text_db = get_default_latex_context_db()
    macros = [MacroTextSpec(name, simplify_repl=_frac) for name in ("frac", "dfrac", "tfrac", "cfrac")]
    macros += [MacroTextSpec(name, simplify_repl=_binom) for name in ("binom", "dbinom", "tbinom")]
    macros += [MacroTextSpec("sqrt", simplify_repl=_sqrt), MacroTextSpec("pmod", simplify_repl=_pmod)]
    macros += [
        MacroTextSpec(name, simplify_repl=_content)
        for name in ("boxed", "operatorname", "mathrm", "mathbf", "mathit", "textbf", "overline", "text")
    ]
    macros += [MacroTextSpec(name, simplify_repl="") for name in ("left", "right", "displaystyle", "limits")]
    macros += [MacroTextSpec(name, simplify_repl=" ") for name in (",", ";", ":", "!", "quad", "qquad")]
    text_db.add_context_category("start-tui-math", prepend=True, macros=macros)
    l2t = LatexNodes2Text(latex_context=text_db, math_mode="text", strict_latex_spaces=False)
    return walker_db, l2t


_SYMBOL = re.compile(r"\\(" + "|".join(sorted(SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])(\s*)")
_KEEP_SPACE = re.compile(r"\\([A-Za-z]+)(?=\s)")


def _symbol(m: re.Match[str]) -> str:
    name = m.group(1)
    return SYMBOLS[name] + ("" if name in PREFIX else m.group(2))


def _keep_space(m: re.Match[str]) -> str:
    """`\alpha ` followed by a space keeps it (`\alpha{}`), where the macro takes no argument."""
    spec = _converter()[0].get_macro_spec(m.group(1))
    argspec = getattr(getattr(spec, "args_parser", None), "argspec", "")
    return m.group(0) + "{}" if not argspec else m.group(0)


_SCRIPT = re.compile(r"([\^_])\s*(\{|\\[A-Za-z]+|\\.|[^\s{}\\])")


def _scripts(latex: str) -> str:
    """Each `^...` and `_...` of `latex` turned into Unicode (converting the group inside first)."""
    out: list[str] = []
    i = 0
    while (m := _SCRIPT.search(latex, i)) is not None:
        out.append(latex[i : m.start()])
        if m.group(2) == "{":
            depth, j = 1, m.end()
            while j < len(latex) and depth:
                depth += {"{": 1, "}": -1}.get(latex[j], 0)
                j += 1
            if depth:  # never closed: left as written
                out.append(latex[m.start() :])
                i = len(latex)
                break
            inner, i = latex[m.end() : j - 1], j
        else:
            inner, i = m.group(2), m.end()
        text = latex_to_unicode(inner)
        superscript = m.group(1) == "^"
        converted = _script(text, SUPERSCRIPT if superscript else SUBSCRIPT, m.group(1))
        out.append("{" + converted.replace("\\", "\\textbackslash{}") + "}")
    out.append(latex[i:])
    return "".join(out)


@lru_cache(maxsize=4096)
def latex_to_unicode(latex: str) -> str:
    """One LaTeX formula as readable Unicode text: `\\frac{a+b}{2} \\le x^{2}` is `(a+b)/2 ≤ x²`."""
    walker_db, l2t = _converter()
    try:
        source = _scripts(_KEEP_SPACE.sub(_keep_space, _SYMBOL.sub(_symbol, latex)))
        nodes, _, _ = latexwalker.LatexWalker(source, latex_context=walker_db, tolerant_parsing=True).get_latex_nodes()
        text = l2t.nodelist_to_text(nodes)
    except Exception:
        return latex
    return re.sub(r"[ \t]+", " ", text).strip()


MATH = re.compile(
    r"\\\[(?P<display>.+?)\\\]"
    r"|\$\$(?P<display2>.+?)\$\$"
    r"|\\\((?P<inline>.+?)\\\)"
    r"|(?<![\\$\w])\$(?=[^\s$])(?P<inline2>[^$\n]+?)(?<=\S)\$(?![\w$])",
    re.S,
)
"""A math span: display (`\\[ \\]`, `$$ $$`) or inline (`\\( \\)`, `$ $`). A `$` span needs no space
inside its ends and no word or digit outside them, so prices ("$5 and $10") stay text."""

_CODE = re.compile(r"(^[ \t]*(```|~~~)[^\n]*\n.*?(^[ \t]*\2[ \t]*$|\Z)|`+[^`\n]*`+)", re.S | re.M)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _outside_code(text: str, replace: Any) -> str:
    """`replace` applied to the parts of a Markdown text outside code blocks and code spans."""
    out, i = [], 0
    for m in _CODE.finditer(text):
        out.append(replace(text[i : m.start()]))
        out.append(m.group(0))
        i = m.end()
    out.append(replace(text[i:]))
    return "".join(out)


def _readable(m: re.Match[str]) -> str:
    latex = next(g for g in m.groups() if g is not None)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", latex_to_unicode(latex.replace("\n", " ")))
    newlines = m.group(0).count("\n")
    if newlines and (m.group("display") is not None or m.group("display2") is not None):
        # a paragraph of its own, as display math is, in as many lines as the source took
        return "\n" + text + "\n" * (newlines - 1)
    return text + "\n" * newlines


def markdown_with_math(text: str) -> str:
    """A Markdown text with each math span outside code made readable Unicode, line for line."""
    if "\\" not in text and "$" not in text:
        return text
    return _outside_code(text, lambda part: MATH.sub(_readable, part))


def _dollars(m: re.Match[str]) -> str:
    if m.group("display") is not None:
        return f"$${m.group('display')}$$"
    if m.group("inline") is not None:
        return f"${m.group('inline').strip()}$"
    return m.group(0)


def markdown_math_for_export(text: str) -> str:
    """`\\( \\)` and `\\[ \\]` written as `$ $` and `$$ $$`: Markdown eats the backslashes of the first,
    and viewers that render math (GitHub, Obsidian, Jupyter) read the second."""
    if "\\" not in text:
        return text
    return _outside_code(text, lambda part: MATH.sub(_dollars, part))
