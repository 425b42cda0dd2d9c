"""The product's one settings object, `Settings`, with a section per part of the data flow.

Read from keyword arguments, then environment variables with prefix `ASSISTANT_` (nested
sections with `__`: `ASSISTANT_RETRIEVAL__TOP_K=8`, `ASSISTANT_LLM__URL=http://...`), then the
defaults below. Every field has a description; README lists them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from index import IndexSettings


class RetrievalSettings(BaseModel):
    """How passages are found: dense vectors and BM25 keywords, fused."""

    top_k: int = Field(5, ge=1, le=100, description="Passages handed to the answer step.")
    candidates: int = Field(
        50, ge=1, le=1000, description="Chunks each retriever (dense, BM25) returns before fusion."
    )
    mode: Literal["hybrid", "dense", "keyword"] = Field(
        "hybrid",
        description="'hybrid' (dense + BM25 fused), 'dense' only, or 'keyword' (BM25) only.",
    )
    rrf_k: float = Field(60.0, gt=0, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    keyword_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    title_weight: float = Field(
        0.5,
        ge=0,
        description="Bonus for a chunk whose article title holds the question's words, in units "
        "of a first place in one ranking (scaled by the share of question words in the title).",
    )
    article_weight: float = Field(
        0.0,
        ge=0,
        description="Share of the scores of an article's other candidate chunks added to each of "
        "its chunks: an article found by several chunks ranks above one found by a single chunk.",
    )
    recency_weight: float = Field(
        1.5,
        ge=0,
        description="Bonus for recent articles when a latest date is set (`as_of` or `until`), in "
        "units of a first place in one ranking, halving every `recency_half_life_days`.",
    )
    recency_half_life_days: float = Field(
        7.0, gt=0, description="Days before the latest date at which the recency bonus halves."
    )
    recency_now_factor: float = Field(
        1.0,
        ge=0,
        description="The recency bonus times this for a question whose words ask about the latest "
        "days ('this week', 'on Tuesday', 'recently', 'the latest').",
    )
    recency_past_factor: float = Field(
        1.0,
        ge=0,
        description="The recency bonus times this for a question whose words ask about the past "
        "('in 1920', 'ever', 'the first time since', 'in history').",
    )
    rerank_depth: int = Field(
        0,
        ge=0,
        le=200,
        description="Best-ranked chunks the reader reads again before passages are formed (with "
        "`answer.reader`); 0: no reranking.",
    )
    rerank_weight: float = Field(
        1.0,
        ge=0,
        description="Bonus for a reread chunk, times the reader's probability that its best "
        "sentence holds the answer, in units of a first place in one ranking.",
    )


class AnswerSettings(BaseModel):
    """How an answer is composed from passages and checked against them."""

    max_sentences: int = Field(
        3, ge=1, le=10, description="Most sentences in an extractive answer."
    )
    min_relevance: float = Field(
        0.35,
        ge=0,
        le=1,
        description="Below this question-sentence similarity the articles are taken not to "
        "answer the question, and the assistant says so.",
    )
    keep_share: float = Field(
        0.6,
        ge=0,
        le=1,
        description="A further sentence joins the answer only if its relevance is at least this "
        "share of the best sentence's (1: the best sentence alone).",
    )
    type_weight: float = Field(
        0.08,
        ge=0,
        le=1,
        description="Bonus for a sentence holding the kind of thing the question asks for (a "
        "number for 'how many', a name for 'who' or 'which ...', a date for 'when').",
    )
    passage_weight: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Bonus for sentences of better-ranked passages: the first passage gets it "
        "all, the n-th 1/n of it.",
    )
    max_candidates: int = Field(
        24,
        ge=0,
        description="Sentences embedded per extractive answer: the best by wording, answer kind "
        "and passage rank are compared with the question by meaning (0: every sentence).",
    )
    support_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="Least similarity between an answer sentence and a passage sentence for the "
        "passage to count as supporting it (LLM answers).",
    )
    max_question_chars: int = Field(
        2000, ge=10, description="Longer questions are refused with a clear message."
    )
    reader: bool = Field(
        True,
        description="Use the reader, a small model trained here to tell whether a sentence holds "
        "the answer (`make reader` writes it to assistant/models/reader/): it helps choose "
        "answer sentences, says when the articles don't answer and orders an LLM's passages; "
        "it can also rerank passages (`retrieval.rerank_depth`) and judge multiple choice "
        "(`choice_reader_share`). false: the similarity and wording rules alone.",
    )
    reader_weight: float = Field(
        1.0,
        ge=0,
        le=5,
        description="Bonus for an answer sentence, times the reader's probability that it holds "
        "the answer.",
    )
    reader_depth: int = Field(
        12,
        ge=0,
        description="Sentences the reader reads per answer: the most relevant by meaning, "
        "wording, kind and passage rank (0: every embedded sentence).",
    )
    reader_floor: float = Field(
        0.2,
        ge=0,
        le=1,
        description="When no sentence's reader probability reaches this, the articles are taken "
        "not to answer the question, and the assistant says so.",
    )
    choice_reader_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Multiple choice: share of a sentence's fit to a choice taken from the reader "
        "(the rest is the sentence's similarity to the question answered by that choice).",
    )


class LLMSettings(BaseModel):
    """An optional LLM that writes the answer; empty `url` means extractive answers."""

    url: str = Field(
        "",
        description="Base URL of an OpenAI-compatible server (Ollama, vLLM, LM Studio, "
        "llama.cpp server, OpenAI), or the path of a local .gguf file (needs the 'llm' extra). "
        "Empty: extractive answers, no LLM.",
    )
    model: str = Field("", description="Model name on that server.")
    api_key: str = Field("not-needed", description="API key for the server, if it wants one.")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(400, ge=16, le=8192, description="Most tokens in one answer.")
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for the server.")
    retries: int = Field(
        1,
        ge=0,
        le=10,
        description="Times a request that failed for a passing reason (connection, rate limit, "
        "server error) is retried before the error is shown.",
    )
    context_window: int = Field(4096, ge=512, description="Context window of the model, in tokens.")


class WebSettings(BaseModel):
    """The web page (`app.py`, `assistant serve`)."""

    host: str = Field("127.0.0.1", description="Address to bind; beyond loopback needs auth.")
    port: int = Field(7860, ge=0, le=65535, description="Port to serve on.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file a reader may upload.")
    concurrency_limit: int = Field(
        4, ge=1, le=64, description="Questions answered at once; more wait in the queue."
    )
    articles: list[Path] = Field(
        default_factory=list,
        description="Folders indexed at start-up and synced (with pruning) by the page's "
        "Re-index button; `--articles` on the command line.",
    )
    examples: list[str] = Field(
        default_factory=lambda: [
            "Why did Japan attend the Madrid summit?",
            "How hot did it get in Britain during the heatwave?",
            "By how much did the Fed raise interest rates?",
            "What did the Webb telescope's first images show?",
        ],
        description="Example questions offered on an empty chat (the defaults suit samples/).",
    )
    login_free_failures: int = Field(
        3,
        ge=0,
        description="Failed sign-ins in a row (with `--auth`) a client address may make before "
        "each further attempt is held back.",
    )
    login_delay: float = Field(
        0.5,
        ge=0,
        description="Seconds the first held-back sign-in attempt waits before its password is "
        "checked; doubled for each further failure in a row.",
    )
    login_max_delay: float = Field(
        8.0, ge=0, description="Longest wait, in seconds, of a held-back sign-in attempt."
    )
    login_lockout_failures: int = Field(
        10,
        ge=1,
        description="Failed sign-ins in a row after which a client address is refused (HTTP 429, "
        "its password not even checked) for `login_lockout_seconds`; a success resets the count.",
    )
    login_lockout_seconds: float = Field(
        300.0,
        gt=0,
        description="Seconds a client address stays refused; after that each further failure "
        "refuses it again, until it signs in or stays quiet this long.",
    )


class Settings(BaseSettings):
    """Everything configurable, in one place."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="ignore"
    )

    store: Path = Field(
        Path(".assistant"), description="Folder of the embedded store (and local caches)."
    )
    chroma_url: str = Field(
        "",
        description="URL of a `chroma run` server (http://HOST:PORT); empty: embedded store "
        "in `store`.",
    )
    auth: str = Field(
        "", description="USER:PASS required by the web page; needed to bind beyond loopback."
    )
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    web: WebSettings = Field(default_factory=WebSettings)
