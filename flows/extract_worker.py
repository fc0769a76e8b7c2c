"""An extraction worker: reads pages from stdin, writes articles to stdout, until EOF."""

from __future__ import annotations

import sys

from extractors.articles import extract_article
from flows.extraction_pool import read_frame, write_frame


def serve() -> None:
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    # Anything a library prints must not corrupt the frames on stdout.
    sys.stdout = sys.stderr
    write_frame(replies, "ready")  # the import above is done; pages may come
    while True:
        try:
            html, url, max_chars, charset = read_frame(requests)
        except EOFError:  # the parent is gone or done
            return
        try:
            article = extract_article(html, url=url, max_chars=max_chars, charset=charset)
            reply: tuple[str, object] = ("ok", article)
        except Exception as exc:  # reported to the parent, which falls back to the summary
            reply = ("error", f"{type(exc).__name__}: {exc}")
        write_frame(replies, reply)


if __name__ == "__main__":
    serve()
