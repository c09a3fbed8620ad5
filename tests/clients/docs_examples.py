"""The runnable examples of docs/clients.md: fenced blocks preceded by `<!-- test: KIND -->`.

KIND says what a block runs against: `gateway` (python or bash, with the gateway's URL and a key
substituted), `proxy-config` (the LiteLLM proxy's yaml, used verbatim by the `proxy` fixture) and
`proxy` (python calling that proxy). The examples' own addresses are `make serve`'s and `litellm`'s
defaults, replaced here by the test servers' ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
GATEWAY_URL = "http://127.0.0.1:8080"
PROXY_URL = "http://127.0.0.1:4000"
PROXY_KEY = "sk-my-proxy-key"

_BLOCK = re.compile(r"<!-- test: (?P<kind>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)\n```", re.S)


@dataclass(frozen=True)
class Example:
    kind: str
    lang: str
    code: str
    line: int
    heading: str

    @property
    def name(self) -> str:
        return f"{self.lang}@{self.line}"


def examples(kind: str | None = None) -> list[Example]:
    text = GUIDE.read_text()
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 2
        headings = re.findall(r"^## (.+)$", text[: match.start()], re.M)
        found.append(
            Example(match["kind"], match["lang"], match["code"], line, headings[-1] if headings else "")
        )
    return [e for e in found if kind is None or e.kind == kind]


def proxy_config_block() -> str:
    (block,) = examples("proxy-config")
    return block.code + "\n"
