"""Deterministic token counts for the size tests: o200k_base through the offline `bpe-openai` tokenizer
(tiktoken downloads its vocabulary at run time and fails offline)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any


@cache
def _encoding() -> Any:
    import bpe_openai

    return bpe_openai.get_encoding("o200k_base")


def count(value: Any) -> int:
    """Tokens of a string, or of a value's compact JSON."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(_encoding().encode(text))


def tool_definitions(tools: list[Any]) -> list[dict[str, Any]]:
    """What a model is given of each tool: name, description and input schema."""
    return [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools]
