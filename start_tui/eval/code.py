"""LiveCodeBench on the sample tests found in the prompt (the file has no hidden tests).

Two kinds of problems: standard-input programs (AtCoder, Codeforces: "Sample Input 1" / "Sample
Output 1") and LeetCode functions ("Example 1: Input: nums = [..], k = 2 / Output: 3", with a
`class Solution` starter). The model's last ```python block is run in the sandbox on each sample;
a problem passes when every sample's output matches. This is a sample-test score, weaker than
LiveCodeBench's hidden tests, and reports say so.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from start_tui.sandbox import Sandbox

_SAMPLE = re.compile(r"^Sample Input (\d+)\s*$", re.M)
_EXAMPLE = re.compile(r"^Input:\s*(.+?)\s*\nOutput:\s*(.+?)\s*$", re.M)
_METHOD = re.compile(r"^\s+def (\w+)\(self", re.M)
_BLOCK = re.compile(r"```python[^\n]*\n(.*?)```", re.S)


@dataclass
class Sample:
    input: str
    output: str


@dataclass
class SampleTests:
    kind: str  # "stdin" or "function"
    samples: list[Sample]
    method: str = ""


def _literal(text: str) -> object:
    fixed = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", text)))
    return ast.literal_eval(fixed.strip())


def sample_tests(prompt: str) -> SampleTests | None:
    """The sample tests shown in a LiveCodeBench prompt, or None when none can be read."""
    heads = list(_SAMPLE.finditer(prompt))
    if heads:
        samples = []
        for head in heads:
            k = head.group(1)
            out = re.search(rf"^Sample Output {k}\s*$", prompt[head.end() :], re.M)
            if out is None:
                continue
            given = prompt[head.end() : head.end() + out.start()].strip("\n")
            rest = prompt[head.end() + out.end() :].lstrip("\n")
            expected = re.split(r"\n\s*\n", rest, maxsplit=1)[0]
            samples.append(Sample(given.strip() + "\n", expected.strip()))
        return SampleTests("stdin", samples) if samples else None
    method = _METHOD.search(prompt.split("```python")[-1]) if "class Solution" in prompt else None
    if method is None:
        return None
    samples = []
    for m in _EXAMPLE.finditer(prompt):
        samples.append(Sample(m.group(1), m.group(2)))
    return SampleTests("function", samples, method.group(1)) if samples else None


def last_program(text: str) -> str | None:
    blocks = _BLOCK.findall(text)
    return blocks[-1] if blocks else None


def _kwargs(given: str) -> dict[str, object]:
    parts = re.split(r",\s*(?=[A-Za-z_]\w*\s*=)", given)
    out = {}
    for part in parts:
        name, _, value = part.partition("=")
        out[name.strip()] = _literal(value)
    return out


def sample_outputs(program: str, tests: SampleTests, sandbox: Sandbox) -> tuple[list[str] | None, str]:
    """What `program` gives on each sample (printed text, or the returned value's repr), or None and
    why it could not run (the first failing sample)."""
    outputs: list[str] = []
    for i, sample in enumerate(tests.samples, 1):
        if tests.kind == "stdin":
            result = sandbox.run(program, stdin=sample.input)
            if not result.ok:
                return None, f"sample {i}: {result.error}"
            outputs.append(" ".join(result.stdout.split()))
            continue
        try:
            kwargs = _kwargs(sample.input)
        except (ValueError, SyntaxError):
            return None, f"sample {i}: the example could not be read"
        call = f"\nprint(repr(Solution().{tests.method}(**{kwargs!r})))\n"
        result = sandbox.run("from typing import *\n" + program + call)
        if not result.ok:
            return None, f"sample {i}: {result.error}"
        try:
            outputs.append(repr(_literal(result.stdout.strip().splitlines()[-1])))
        except (ValueError, SyntaxError, IndexError):
            return None, f"sample {i}: printed {result.stdout.strip()[:80]!r}"
    return outputs, ""


def passes_samples(program: str, tests: SampleTests, sandbox: Sandbox) -> tuple[bool, str]:
    """Run `program` on every sample; (all passed, a short reason for the first failure)."""
    outputs, why = sample_outputs(program, tests, sandbox)
    if outputs is None:
        return False, why
    for i, (sample, got) in enumerate(zip(tests.samples, outputs, strict=True), 1):
        if tests.kind == "stdin":
            if got.split() != sample.output.split():
                return False, f"sample {i}: printed {got[:80]!r}, expected {sample.output[:80]!r}"
            continue
        try:
            expected = _literal(sample.output)
        except (ValueError, SyntaxError):
            return False, f"sample {i}: the example could not be read"
        if _literal(got) != expected:
            return False, f"sample {i}: returned {got:.80}, expected {expected!r:.80}"
    return True, ""
