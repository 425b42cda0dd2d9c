"""The LLM behind LLM answers: an OpenAI-compatible server, or a local GGUF file.

    llm = make_llm(settings.llm)   # URL -> ServerLLM, path/to/model.gguf -> LocalLLM
    llm.check()                    # at start-up: reachable, and serves the configured model
    for delta in llm.stream([{"role": "user", "content": "..."}]):
        ...

A server is any OpenAI-compatible API (llama.cpp server, Ollama, vLLM, LM Studio, OpenAI),
spoken to through llama-index's `OpenAILike`; both `http://host:port` and `http://host:port/v1`
name it. A `.gguf` path runs the model with llama.cpp's server in a child process that
`assistant.answer.local_llm` starts and watches (the optional `llm` extra). Every failure becomes an
`LLMError` with a one-line message that names the URL or file and the model, and says what to
check.

When `model` is empty and the server lists exactly one model, `check()` adopts that one (it shows
in `model_label`); with several it asks the user to choose.

Not here: prompts (`assistant.answer.prompts`) and checking the answer (`assistant.answer.citations`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import openai

from assistant.errors import LLMError
from assistant.settings import LLMSettings

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}

_URL_HINT = "an OpenAI-compatible base URL such as http://127.0.0.1:8080/v1"


class LLMClient(Protocol):
    """What the assistant needs from an LLM."""

    @property
    def model_label(self) -> str:
        """The model and where it runs, for display."""
        ...

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """The reply as text deltas, in order."""
        ...

    def complete(self, messages: Sequence[Message]) -> str:
        """The whole reply."""
        ...

    def check(self) -> None:
        """Raise `LLMError` unless the model is there to answer."""
        ...


def make_llm(settings: LLMSettings) -> LLMClient:
    """A client for `settings.url`: an http(s) URL, or the path of a `.gguf` file."""
    url = settings.url.strip()
    if not url:
        raise LLMError("no LLM configured: set ASSISTANT_LLM__URL to " + _URL_HINT + " or a .gguf")
    if url.lower().startswith(("http://", "https://")):
        if not urlsplit(url).hostname:
            raise LLMError(f"ASSISTANT_LLM__URL={url!r} has no host: use {_URL_HINT}")
        return ServerLLM(settings)
    if url.lower().endswith(".gguf"):
        from assistant.answer.local_llm import LocalLLM

        return LocalLLM(settings)
    raise LLMError(
        f"ASSISTANT_LLM__URL={url!r} is neither an http(s) URL nor a .gguf file: use {_URL_HINT}, "
        "or the path of a local GGUF model"
    )


def api_base(url: str) -> str:
    """The OpenAI API root of a server URL: a bare `http://host:port` gains `/v1`."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class ServerLLM:
    """An OpenAI-compatible chat server, through llama-index's `OpenAILike`."""

    def __init__(self, settings: LLMSettings, where: str = "") -> None:
        """`where`: how messages name the server (default: "the LLM server at URL")."""
        from llama_index.llms.openai_like import OpenAILike

        self.settings = settings
        self.url = settings.url.strip().rstrip("/")
        self.where = where or f"the LLM server at {self.url}"
        self.base = api_base(settings.url)
        self.model = settings.model.strip()
        self._llm = OpenAILike(
            model=self.model,
            api_base=self.base,
            api_key=settings.api_key or "not-needed",
            is_chat_model=True,
            is_function_calling_model=False,
            context_window=settings.context_window,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            timeout=settings.timeout,
            max_retries=settings.retries,
        )

    @property
    def model_label(self) -> str:
        return f"{self.model or 'default model'} at {self.url}"

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        said, finished = False, False
        try:
            for chunk in self._llm.stream_chat(_chat_messages(messages)):
                finished = finished or _finish_reason(chunk.raw) is not None
                if chunk.delta:
                    said = True
                    yield chunk.delta
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._error(exc) from exc
        if not said and not finished:  # the server dropped the stream before a word
            raise LLMError(
                f"{self.where} ended its reply without an answer: see the "
                "server's log; the prompt may exceed its context (lower ASSISTANT_RETRIEVAL__TOP_K)"
            )

    def complete(self, messages: Sequence[Message]) -> str:
        try:
            return self._llm.chat(_chat_messages(messages)).message.content or ""
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise self._error(exc) from exc

    def check(self) -> None:
        models = self.served_models()
        if models is None:
            return  # the server keeps no list; the first question will tell
        if not self.model:
            if len(models) != 1:
                raise LLMError(
                    f"no model chosen: set ASSISTANT_LLM__MODEL to one the server at {self.url} "
                    f"has: {_names(models)}"
                )
            self.model = self._llm.model = models[0]
        elif not _serves(self.model, models):
            raise self._no_such_model(models)

    def served_models(self) -> list[str] | None:
        """Model ids from GET {base}/models; None when the server keeps no such list."""
        try:
            reply = httpx.get(
                f"{self.base}/models",
                headers={"Authorization": f"Bearer {self.settings.api_key or 'not-needed'}"},
                timeout=min(self.settings.timeout, 15.0),
            )
        except httpx.TimeoutException:
            raise self._timeout() from None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if reply.status_code in (401, 403):
            raise self._refused_key(reply.status_code)
        if reply.status_code in (404, 405):
            return None
        if reply.status_code >= 400:
            raise LLMError(
                f"{self.where} answered HTTP {reply.status_code} to GET "
                f"{self.base}/models: see the server's log"
            )
        try:
            return [str(m["id"]) for m in reply.json()["data"]]
        except (ValueError, KeyError, TypeError):
            raise LLMError(
                f"{self.url} is not an OpenAI-compatible API: GET {self.base}/models returned no "
                f"model list; check ASSISTANT_LLM__URL ({_URL_HINT})"
            ) from None

    def _error(self, exc: openai.OpenAIError | httpx.HTTPError) -> LLMError:
        where = self.where
        # Once a streamed answer has begun, httpx errors arrive unwrapped by openai.
        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            return self._timeout()
        if isinstance(exc, openai.APIConnectionError):
            return self._unreachable(exc)
        if isinstance(exc, httpx.HTTPError):
            return LLMError(
                f"the connection to {self.where} broke off ({_detail(exc)}): "
                "is it still running? See the server's log"
            )
        if not isinstance(exc, openai.APIStatusError):
            return LLMError(f"{where} sent a reply that cannot be read ({_detail(exc)})")
        code, detail = exc.status_code, _detail(exc)
        if code in (401, 403):
            return self._refused_key(code)
        if code == 404:
            return self._not_found()
        if code == 429:
            return LLMError(f"{where} is rate-limiting requests (HTTP 429): wait, then ask again")
        if code >= 500:
            return LLMError(f"{where} failed (HTTP {code}: {detail}): see the server's log")
        if code == 400:
            return LLMError(
                f"{where} rejected the request (HTTP 400: {detail}): the prompt may exceed the "
                "model's context; lower ASSISTANT_RETRIEVAL__TOP_K, raise "
                "ASSISTANT_LLM__CONTEXT_WINDOW if the model allows, or check ASSISTANT_LLM__MODEL"
            )
        return LLMError(f"{where} answered HTTP {code}: {detail}")

    def _not_found(self) -> LLMError:
        try:
            models = self.served_models()
        except LLMError:
            models = None
        if models is not None and not _serves(self.model, models):
            return self._no_such_model(models)
        return LLMError(
            f"{self.where} answered 404 Not Found for model {self.model!r}: check "
            f"that ASSISTANT_LLM__URL is the API base ({_URL_HINT}) and ASSISTANT_LLM__MODEL"
        )

    def _no_such_model(self, models: list[str]) -> LLMError:
        return LLMError(
            f"the server at {self.url} has no model {self.model!r}; models it has: "
            f"{_names(models)} (set ASSISTANT_LLM__MODEL)"
        )

    def _unreachable(self, exc: BaseException) -> LLMError:
        cause = exc.__cause__ or exc  # openai wraps the httpx error that names the cause
        return LLMError(
            f"cannot reach {self.where}: is it running? Check ASSISTANT_LLM__URL "
            f"({_URL_HINT}); {_detail(cause)}"
        )

    def _timeout(self) -> LLMError:
        return LLMError(
            f"{self.where} did not answer within {self.settings.timeout:g}s "
            "(ASSISTANT_LLM__TIMEOUT): it may be busy or still loading the model"
        )

    def _refused_key(self, code: int) -> LLMError:
        return LLMError(
            f"{self.where} refused the API key (HTTP {code}): set ASSISTANT_LLM__API_KEY"
        )


def _chat_messages(messages: Sequence[Message]) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def _finish_reason(raw: Any) -> str | None:
    """Why a streamed chunk ended the reply ("stop", "length"), or None if it did not."""
    choices = getattr(raw, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None


def _serves(model: str, models: list[str]) -> bool:
    # Ollama lists "llama3:latest" and accepts "llama3".
    return model in models or f"{model}:latest" in models


def _names(models: list[str]) -> str:
    shown = ", ".join(models[:10]) + (f" and {len(models) - 10} more" if len(models) > 10 else "")
    return shown or "none"


def _detail(exc: BaseException) -> str:
    """The server's or library's own words about a failure, on one short line."""
    body = getattr(exc, "body", None)
    text = ""
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = str(inner.get("message") or inner) if isinstance(inner, dict) else str(inner)
    elif body:
        text = str(body)
    text = " ".join((text or str(exc) or type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."
