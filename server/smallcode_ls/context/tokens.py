"""Token counting: the endpoint's tokenizer when it has one, a calibrated estimate otherwise.

The estimate is characters per token, starting from 3.6 (code with Qwen/Llama
tokenizers) and pulled towards every exact count seen (from ``/tokenize`` or a
response's ``usage.prompt_tokens``), so budgets stay close to the real model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from smallcode_ls.llm.client import ChatClient

__all__ = ["TokenCount", "TokenCounter", "TokenEstimator"]

_DEFAULT_CHARS_PER_TOKEN = 3.6
_MIN_CHARS = 200  # tiny samples say little about the ratio
_BOUNDS = (1.5, 8.0)


@dataclass(frozen=True, slots=True)
class TokenCount:
    """A token count and whether it came from the model's own tokenizer."""

    tokens: int
    exact: bool


@dataclass(slots=True)
class TokenEstimator:
    """Characters-per-token estimate, calibrated from exact counts."""

    chars_per_token: float = _DEFAULT_CHARS_PER_TOKEN
    samples: int = 0

    def estimate(self, text: str) -> int:
        """Estimated tokens of ``text`` (rounded up)."""
        return math.ceil(len(text) / self.chars_per_token) if text else 0

    def calibrate(self, chars: int, tokens: int) -> None:
        """Fold in one exact observation (weighted running mean of the ratio)."""
        if chars < _MIN_CHARS or tokens <= 0:
            return
        ratio = min(max(chars / tokens, _BOUNDS[0]), _BOUNDS[1])
        # Running mean in which the prior counts as one sample.
        self.chars_per_token += (ratio - self.chars_per_token) / (self.samples + 2)
        self.samples += 1


class TokenCounter:
    """Counts with the endpoint's tokenizer when offered, else with the estimator."""

    def __init__(self, client: ChatClient | None, estimator: TokenEstimator | None = None) -> None:
        self._client = client
        self.estimator = estimator or TokenEstimator()
        self._tokenizer_works: bool | None = None if client else False

    async def count(self, text: str) -> TokenCount:
        """Exact when the endpoint can tokenize (and then calibrate), else estimated."""
        if self._client is not None and self._tokenizer_works is not False:
            tokens = await self._client.tokenize(text)
            self._tokenizer_works = tokens is not None
            if tokens is not None:
                self.estimator.calibrate(len(text), tokens)
                return TokenCount(tokens, exact=True)
        return TokenCount(self.estimator.estimate(text), exact=False)
