"""`Assistant` and `Conversation`: a question in, a cited `Answer` out.

The one place where the defaults are built (`Assistant.open`): the index, the retriever, and
either extractive answers (default, no LLM) or an LLM behind an OpenAI-compatible server or a
local GGUF file, whose every sentence is checked against the passages it cites. When the local
model's process stops while answering, that answer is extractive and says so (`Answer.notice`).

    assistant = Assistant.open(".assistant")
    answer = assistant.ask("Why did Japan attend the Madrid summit?")
    for part in assistant.stream("Who attended?"):   # str deltas, then the final Answer
        ...
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import library
from assistant.answer import extractive, followup
from assistant.answer.passage import Passage
from assistant.answer.reader import Reader, sentence_texts
from assistant.answer.retrieve import Retriever
from assistant.brief import Brief, brief_answer, make_brief, news_period, period
from assistant.coverage import (
    Coverage,
    coverage_answer,
    coverage_of,
    coverage_topic,
    find_story,
    make_coverage,
)
from assistant.errors import LocalModelStopped, QuestionError, StoreError
from assistant.library import LibraryEntry, Removal
from assistant.settings import Settings
from assistant.timeline import Timeline, make_timeline, timeline_answer, timeline_topic
from assistant.types import Answer
from index import ArticleIndex, Filters

if TYPE_CHECKING:  # the LLM client and prompts load only in LLM mode
    from assistant.answer.llm import LLMClient
    from assistant.answer.prompts import Prompts

_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible format characters: zero-width spaces and joiners, byte-order marks, and the bidi
# controls that would reorder the text around the question where it is shown.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
FilterValue = str | dt.date | None


class Assistant:
    """Answers questions from one article index."""

    def __init__(
        self,
        index: ArticleIndex,
        settings: Settings,
        llm: LLMClient | None = None,
        prompts: Prompts | None = None,
        reader: Reader | None = None,
    ) -> None:
        """`llm`: answers are written by it (with `prompts`, the files in `prompts/` when not
        given); None: extractive answers. `reader`: the shipped one when `answer.reader` is on
        and none is given."""
        self.index = index
        self.settings = settings
        if reader is None and settings.answer.reader:
            reader = Reader()
        self.reader = reader
        self.retriever = Retriever(index, settings.retrieval, reader)
        self.llm = llm
        if llm is not None and prompts is None:
            from assistant.answer.prompts import load_prompts

            prompts = load_prompts()
        self.prompts = prompts

    @classmethod
    def open(
        cls,
        store: Path | str | None = None,
        *,
        llm: str | None = None,
        model: str | None = None,
        settings: Settings | None = None,
        index: ArticleIndex | None = None,
    ) -> Assistant:
        """Open the store (which must hold articles) and, if `llm` is given, connect the LLM.

        `llm` is an OpenAI-compatible base URL or a .gguf path; it overrides `settings.llm.url`.
        """
        settings = settings or Settings()
        if store is not None:
            settings = settings.model_copy(update={"store": Path(store)})
        if llm is not None or model is not None:
            llm_settings = settings.llm.model_copy(
                update={k: v for k, v in (("url", llm), ("model", model)) if v is not None}
            )
            settings = settings.model_copy(update={"llm": llm_settings})
        if index is None:
            index = ArticleIndex.open(
                settings.store, settings.index, chroma_url=settings.chroma_url, create=False
            )
        if not settings.llm.url:
            return cls(index, settings)
        from assistant.answer.llm import make_llm
        from assistant.answer.prompts import load_prompts

        prompts = load_prompts()  # a broken prompt file is reported before the LLM is asked
        client = make_llm(settings.llm)
        client.check()
        return cls(index, settings, client, prompts)

    @property
    def mode(self) -> str:
        return "llm" if self.llm is not None else "extractive"

    @property
    def model_label(self) -> str:
        return str(getattr(self.llm, "model_label", "")) if self.llm is not None else ""

    def chat(self) -> Conversation:
        return Conversation(self)

    def ask(self, question: str, **filters: Any) -> Answer:
        """Answer one question; `filters`: source(s), since, until, as_of, top_k."""
        return final_answer(self.stream(question, **filters))

    def stream(
        self, question: str, *, history: Sequence[followup.Turn] = (), **filters: Any
    ) -> Iterator[str | Answer]:
        """Yield the answer text as it is produced, then the final `Answer`."""
        began = time.perf_counter()
        question = clean_question(question, self.settings.answer.max_question_chars)
        top_k = check_top_k(filters.pop("top_k", None))
        chosen = make_filters(**filters)
        if not self.index.records():
            self.index.refresh()
            if not self.index.records():
                raise StoreError(
                    f"the store at {self.settings.store} holds no articles: index some with "
                    "`assistant index PATH`"
                )
        topic = timeline_topic(question)
        if topic is not None:  # how something unfolded: its timeline
            found = make_timeline(self.index, topic, chosen.since, chosen.latest, chosen.sources)
            told = timeline_answer(self.index, question, found, time.perf_counter() - began)
            for sentence in told.sentences:
                yield sentence.text + "".join(f" [{n}]" for n in sentence.citations) + " "
            yield told
            return
        compared = coverage_topic(question)
        if compared is not None:  # who reported what: the story's coverage
            story = find_story(self.index, compared)
            found_coverage = make_coverage(self.index, story) if story is not None else None
            answer = coverage_answer(
                question, compared, found_coverage, time.perf_counter() - began
            )
            for sentence in answer.sentences:
                yield sentence.text + "".join(f" [{n}]" for n in sentence.citations) + " "
            yield answer
            return
        period = news_period(question, chosen.latest or dt.date.today())
        if period is not None:  # the news in general: a brief of the period
            brief = make_brief(self.index, period[0], period[1], chosen.sources, top=5)
            answer = brief_answer(self.index, question, brief, time.perf_counter() - began)
            for sentence in answer.sentences:
                yield sentence.text + "".join(f" [{n}]" for n in sentence.citations) + " "
            yield answer
            return
        notice = ""
        try:
            standalone = self._standalone(question, history)
        except LocalModelStopped as exc:
            standalone, notice = followup.rewrite(question, history), str(exc)
        passages = self.retriever.passages(standalone, chosen, top_k)
        if self.llm is not None and self.prompts is not None and passages and not notice:
            passages = self._read_first(standalone, passages)
            try:
                yield from self._stream_llm(
                    self.llm, self.prompts, question, standalone, passages, began
                )
                return
            except LocalModelStopped as exc:
                notice = str(exc)  # what was streamed is replaced by the extractive answer
        extract = extractive.choose(
            standalone, passages, self.index.embed, self.settings.answer, self.reader
        )
        text, sentences, citations = extractive.compose(extract, question)
        if not notice:
            for sentence in sentences:
                yield sentence.text + "".join(f" [{n}]" for n in sentence.citations) + " "
        yield Answer(
            question=question,
            text=text,
            citations=citations,
            sentences=sentences,
            mode="extractive",
            answered=extract.answered,
            standalone_question=standalone,
            seconds=round(time.perf_counter() - began, 4),
            notice=notice,
        )

    def articles(self, search: str = "", **filters: Any) -> list[LibraryEntry]:
        """The stored articles, newest first: those whose title, outlet, URL or id hold every
        word of `search`; `filters`: source(s), since, until (as for `ask`)."""
        chosen = make_filters(**filters)
        return library.entries(self.index, search, chosen.sources, chosen.since, chosen.until)

    def remove(self, ids: Sequence[str]) -> Removal:
        """Remove articles by id (all their chunks with them), then check the store; an id not
        stored is reported in the `Removal`, the others are removed all the same."""
        return library.remove(self.index, ids, Path(self.settings.store).expanduser() / "uploads")

    def brief(
        self,
        since: dt.date | str = "7d",
        until: dt.date | str | None = None,
        sources: Sequence[str] = (),
        about: str = "",
        top: int = 10,
    ) -> Brief:
        """The `top` stories of the articles published from `since` (24h, 7d, 2w or a date) to
        `until` (default today), each with a headline and a lead sentence quoted with its
        offsets (`assistant.brief`)."""
        if not 1 <= int(top) <= 50:
            raise QuestionError(f"top must be between 1 and 50 stories, not {top}")
        start, end = period(str(since), str(until) if until else None, dt.date.today())
        return make_brief(self.index, start, end, sources, about, int(top))

    def timeline(self, topic: str, **filters: Any) -> Timeline:
        """How the story of `topic` unfolded: its developments by date, one sentence each,
        quoted with its offsets (`assistant.timeline`); `filters`: source(s), since, until."""
        if not topic.strip():
            raise QuestionError("a timeline needs a topic: what the story is about")
        chosen = make_filters(**filters)
        return make_timeline(self.index, topic, chosen.since, chosen.latest, chosen.sources)

    def coverage(self, story: str) -> Coverage:
        """Who reported what about a story (`assistant.coverage`): `story` is a story id (a
        brief's `Story.id`) or words about it; QuestionError when no stored story matches."""
        return coverage_of(self.index, story)

    def retrieve(self, question: str, top_k: int | None = None, **filters: Any) -> list[Passage]:
        """The passages an answer would be drawn from (for inspection and evaluation)."""
        question = clean_question(question, self.settings.answer.max_question_chars)
        return self.retriever.passages(question, make_filters(**filters), check_top_k(top_k))

    def _standalone(self, question: str, history: Sequence[followup.Turn]) -> str:
        if not history:
            return question
        if self.llm is not None and self.prompts is not None:
            lines = "\n".join(f"Q: {t.standalone}\nA: {t.answer}" for t in history[-3:])
            prompt = self.prompts.render_condense(lines, question)
            rewritten = self.llm.complete([{"role": "user", "content": prompt}]).strip()
            return rewritten.splitlines()[0] if rewritten else question
        return followup.rewrite(question, history)

    def _stream_llm(
        self,
        llm: LLMClient,
        prompts: Prompts,
        question: str,
        standalone: str,
        passages: list[Passage],
        began: float,
    ) -> Iterator[str | Answer]:
        from assistant.answer.citations import check_answer

        passages = self._fit_context(passages, prompts)
        messages = [
            {"role": "system", "content": prompts.system},
            {"role": "user", "content": prompts.render_answer(standalone, passages)},
        ]
        parts = []
        for delta in llm.stream(messages):
            parts.append(delta)
            yield delta
        text, sentences, citations = check_answer(
            "".join(parts), passages, self.index.embed, self.settings.answer.support_threshold
        )
        yield Answer(
            question=question,
            text=text,
            citations=citations,
            sentences=sentences,
            mode="llm",
            answered=any(s.supported for s in sentences),
            standalone_question=standalone,
            model=self.model_label,
            seconds=round(time.perf_counter() - began, 4),
        )

    def _read_first(self, question: str, passages: list[Passage]) -> list[Passage]:
        """The passages in the order of the reader's best sentence in each (an LLM reads the
        first ones most closely, and `_fit_context` drops from the end)."""
        if self.reader is None:
            return passages
        best = [
            max(self.reader.probabilities(question, sentence_texts(p.text)), default=0.0)
            for p in passages
        ]
        order = sorted(range(len(passages)), key=lambda i: (-best[i], i))
        return [passages[i] for i in order]

    def _fit_context(self, passages: list[Passage], prompts: Prompts) -> list[Passage]:
        """Keep the prompt within the model's context window (an overflow kills some servers).

        Counts about three characters per token, a safe side for English news text; whole
        passages are dropped from the least relevant end, and one left too long is shortened.
        """
        llm = self.settings.llm
        budget = max(600, (llm.context_window - llm.max_tokens - 400) * 3)
        kept: list[Passage] = []
        used = len(prompts.system) + len(prompts.answer)
        for p in passages:
            size = len(p.text) + len(p.title) + 80
            if used + size > budget:
                if not kept:
                    room = max(200, budget - used - len(p.title) - 80)
                    kept.append(replace(p, text=p.text[:room], end=p.start + room))
                break
            kept.append(p)
            used += size
        return kept


class Conversation:
    """A chat: each question is answered in the light of the previous turns."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.history: list[followup.Turn] = []

    def ask(self, question: str, **filters: Any) -> Answer:
        return final_answer(self.stream(question, **filters))

    def stream(self, question: str, **filters: Any) -> Iterator[str | Answer]:
        for part in self.assistant.stream(question, history=self.history, **filters):
            if isinstance(part, Answer):
                self.history.append(
                    followup.Turn(part.question, part.standalone_question, part.text)
                )
            yield part

    def reset(self) -> None:
        self.history.clear()


def final_answer(parts: Iterator[str | Answer]) -> Answer:
    """Run an answer stream to its end: the `Answer` it yields last."""
    answer = None
    for part in parts:
        if isinstance(part, Answer):
            answer = part
    if answer is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return answer


def clean_question(question: str, limit: int) -> str:
    """The question without control and invisible format characters (zero-width, bidi
    controls); refuses empty (or invisible only) and over-long questions."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = " ".join(_CONTROL.sub(" ", _INVISIBLE.sub("", question)).split())
    if not text:
        raise QuestionError("the question is empty: ask something about your articles")
    if len(text) > limit:
        raise QuestionError(
            f"the question is {len(text):,} characters long, more than the {limit:,} this "
            "assistant reads: ask it in fewer words"
        )
    return text


def make_filters(
    source: str | Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    since: FilterValue = None,
    until: FilterValue = None,
    as_of: FilterValue = None,
) -> Filters:
    """Typed filters from user values; a bad date names the filter it was given for."""
    chosen: list[str] = []
    for value in (source, sources):
        if isinstance(value, str):
            chosen.extend(s.strip() for s in value.split(",") if s.strip())
        elif value:
            chosen.extend(str(s) for s in value)
    filters = Filters(
        sources=tuple(chosen),
        since=_date("since", since),
        until=_date("until", until),
        as_of=_date("as_of", as_of),
    )
    for name, end in (("until", filters.until), ("as_of", filters.as_of)):
        if filters.since and end and filters.since > end:
            raise QuestionError(
                f"the since date {filters.since} is after the {name} date {end}: no article "
                "can match; swap them or widen the range"
            )
    return filters


def check_top_k(top_k: int | None, name: str = "top_k") -> int | None:
    """`top_k` as given, when it is a usable number of passages (1 to 100); `name` is what the
    caller calls it in the message (the command line: `--top-k`)."""
    if top_k is not None and not 1 <= int(top_k) <= 100:
        raise QuestionError(f"{name} must be between 1 and 100 passages, not {top_k}")
    return top_k


def _date(name: str, value: FilterValue) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise QuestionError(
            f"the {name} filter {str(value)[:40]!r} is not a date: use YYYY-MM-DD"
        ) from None
