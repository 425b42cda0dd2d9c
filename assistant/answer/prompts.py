"""The LLM prompts: text files in `prompts/`, loaded and checked once at start-up.

    prompts = load_prompts()                      # or load_prompts(Path("my-prompts"))
    messages = [{"role": "system", "content": prompts.system},
                {"role": "user", "content": prompts.render_answer(question, passages)}]

Each file is a Python `str.format` template (`{name}`; literal braces doubled). A placeholder a
file needs but lacks, or one the program never fills, is a `PromptError` naming the file: a
broken prompt fails at load time, not as a strange answer later.

Retrieved article text is untrusted. `render_answer` fences every passage as data between
`<source id="n">` and `</source>`, and neutralises anything in the article that could close the
fence or pass for a citation marker, so an article cannot fake a source of its own. The system
prompt tells the model that fenced text is data, never instructions. This narrows prompt
injection, it cannot rule it out: answers are still checked against the passages afterwards
(`assistant.answer.citations`).

Not here: calling the LLM (`assistant.answer.llm`) and checking what it wrote (`assistant.answer.citations`).
"""

from __future__ import annotations

import importlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.passage import Passage
from assistant.errors import PromptError

# file name -> (placeholders it must have, placeholders it may have)
SPEC: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "system.txt": (frozenset(), frozenset()),
    "answer.txt": (frozenset({"question", "sources"}), frozenset({"question", "sources"})),
    "condense.txt": (frozenset({"history", "question"}), frozenset({"history", "question"})),
}

# `<source ...>`, `</ SOURCE>`, an unterminated `<source`: anything that could open or close a fence.
_FENCE_TAG = re.compile(r"<(\s*/?\s*source\b[^<>]*)(>?)", re.IGNORECASE)
# `[7]`, `[1, 2]`, `[Source 3]`, `[sources 1 and 2]`: anything that could pass for a citation.
_MARKER = re.compile(
    r"\[(\s*(?:sources?\s*)?\d+(?:\s*(?:,|;|-|–|and|&)\s*(?:sources?\s*)?\d+)*\s*)\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Prompts:
    """The checked prompt texts. `system` is final text; `answer` and `condense` are templates."""

    system: str
    answer: str
    condense: str
    folder: Path | None = None

    def render_answer(self, question: str, passages: Sequence[Passage]) -> str:
        """The user message asking `question` about `passages`, numbered [1]..[n] and fenced."""
        return self.answer.format(question=question.strip(), sources=render_sources(passages))

    def render_condense(self, history: str, question: str) -> str:
        """The user message asking to rewrite a follow-up `question` so it stands alone."""
        return self.condense.format(history=history.strip(), question=question.strip())


def load_prompts(folder: Path | None = None) -> Prompts:
    """Read and check `system.txt`, `answer.txt` and `condense.txt` from `folder`.

    The default folder is the installed `prompts` package. Raises `PromptError` naming the file
    for a missing file, a malformed template, or a missing or unknown placeholder.
    """
    if folder is None:
        folder = Path(importlib.import_module("prompts").__file__ or ".").parent
    texts = {name: _read_checked(Path(folder) / name) for name in SPEC}
    return Prompts(
        system=texts["system.txt"].format().strip(),
        answer=texts["answer.txt"],
        condense=texts["condense.txt"],
        folder=Path(folder),
    )


def render_sources(passages: Sequence[Passage]) -> str:
    """Each passage as a numbered, fenced block: `<source id="n">[n] title ...</source>`."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        title = _field(p.title) or "(untitled)"
        about = ", ".join(x for x in (_field(p.source), _field(p.published)) if x)
        head = f"[{n}] {title}" + (f" ({about})" if about else "")
        blocks.append(f'<source id="{n}">\n{head}\n{neutralise(p.text).strip()}\n</source>')
    return "\n\n".join(blocks)


def neutralise(text: str) -> str:
    """Article text that can neither close a `<source>` fence nor pass for a `[n]` marker.

    Angle brackets of source tags become ‹ › and square brackets of number markers become
    parentheses; all other text is kept as it is.
    """
    text = _FENCE_TAG.sub(lambda m: "‹" + m.group(1) + ("›" if m.group(2) else ""), text)
    return _MARKER.sub(lambda m: "(" + m.group(1) + ")", text)


def _field(value: str) -> str:
    """A metadata value on one line, neutralised like article text."""
    return neutralise(" ".join(value.split()))


def _read_checked(path: Path) -> str:
    required, allowed = SPEC[path.name]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(
            str(path),
            "prompt file missing: the folder must hold " + ", ".join(SPEC) + " (reinstall the "
            "package to restore the shipped prompts)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(str(path), f"cannot read the prompt file ({exc})") from None
    if not text.strip():
        raise PromptError(str(path), "the prompt file is empty")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise PromptError(
            str(path), f"malformed template ({exc}): write literal braces doubled, {{{{ and }}}}"
        ) from None
    for name in fields:
        if name not in allowed:
            known = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
            raise PromptError(
                str(path),
                f"unknown placeholder {{{name}}} on line {_line_of(text, '{' + name)}; "
                f"this prompt may use: {known} (write literal braces doubled)",
            )
    missing = sorted(required - set(fields))
    if missing:
        names = ", ".join("{" + m + "}" for m in missing)
        raise PromptError(str(path), f"required placeholder {names} is missing; add it")
    return text


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
