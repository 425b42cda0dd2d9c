"""The process that runs a local GGUF model: llama.cpp's OpenAI-compatible server (the one in
llama-cpp-python) on a listening socket made by its parent, ending when its parent ends.

    python -m assistant.answer.llm_child --fd N --parent PID --model FILE --n-ctx 4096 --alias NAME

`assistant.answer.local_llm.LocalLLM` starts and watches it: a crash of the native model runtime ends
this process, never the page or command that asked. A model that cannot be loaded is one line
on stderr and exit code 3.

Not here: starting, restarting and speaking to it (`assistant.answer.local_llm`).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.answer.llm_child")
    p.add_argument("--fd", type=int, required=True, help="a listening TCP socket to serve on")
    p.add_argument("--parent", type=int, required=True, help="end when this process is gone")
    p.add_argument("--model", required=True, help="the GGUF file")
    p.add_argument("--n-ctx", type=int, default=4096, help="context window in tokens")
    p.add_argument("--alias", default="local", help="the model's name in the API")
    args = p.parse_args(argv)
    _end_with(args.parent)
    listening = socket.socket(fileno=args.fd)

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    try:
        model = ModelSettings(
            model=args.model, model_alias=args.alias, n_ctx=args.n_ctx, verbose=False
        )
        app = create_app(server_settings=ServerSettings(), model_settings=[model])
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"cannot load {args.model}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 3
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listening])
    return 0


def _end_with(parent: int) -> None:
    """Exit as soon as `parent` is no longer this process's parent (it ended, however)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
