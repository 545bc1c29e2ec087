"""The README's code blocks, for the tests that run them (by section heading and language)."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
_FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(path: Path = README) -> list[tuple[str, str, str]]:
    """(heading, language, code) of every fenced block, in order."""
    out, heading, lang, code = [], "", None, []
    for line in path.read_text().splitlines():
        fence = _FENCE.match(line)
        if lang is None:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            elif fence:
                lang, code = fence.group(1), []
        elif fence and not fence.group(1):
            out.append((heading, lang, "\n".join(code) + "\n"))
            lang = None
        else:
            code.append(line)
    return out


def python_blocks(path: Path = README) -> dict[str, str]:
    """Python code by section heading (blocks of one section joined)."""
    out: dict[str, str] = {}
    for heading, lang, code in blocks(path):
        if lang == "python":
            out[heading] = out.get(heading, "") + code
    return out


def shell_commands(path: Path = README) -> list[tuple[str, str]]:
    """(heading, command) of every command in the ``sh`` blocks: comments dropped,
    backslash continuations joined."""
    out = []
    for heading, lang, code in blocks(path):
        if lang != "sh":
            continue
        text = re.sub(r"\\\n\s*", " ", code)
        for line in text.splitlines():
            cmd = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
            if cmd:
                out.append((heading, cmd))
    return out
