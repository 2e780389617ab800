"""A lenient reader for the JSON that small models write.

It accepts strict JSON plus: Python literals (single/triple quotes, ``True``/``False``/``None``,
Python escapes), bare keys, trailing commas, a missing comma between members, raw newlines and
tabs inside strings, unknown escapes (kept verbatim, as Python does), comments, and truncation.

Strings are decoded exactly: nothing is stripped and no content is invented. Truncation is
classified: :attr:`Truncation.STRUCTURAL` means only closing brackets were missing (the value is
complete and was closed); :attr:`Truncation.CONTENT` means the text stopped inside a string, a
key or right after a separator, so the value is partial and must not be used as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["LenientValue", "Truncation", "decode_value", "read_lenient"]

_MAX_DEPTH = 64
_WS = re.compile(r"(?:\s+|//[^\n]*|#[^\n]*|/\*.*?\*/)*", re.S)
_DQ_RUN = re.compile(r'[^"\\]*')
_SQ_RUN = re.compile(r"[^'\\]*")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_$][\w$\-]*")
_CONTROL = re.compile(r"[\x00-\x1f]")
_OCTAL = re.compile(r"[0-7]{1,3}")
_HEX = frozenset("0123456789abcdefABCDEF")
_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}
_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "'": "'",
}
_PY_ESCAPES = {"a": "\a", "v": "\v", "\n": ""}
_STRICT = json.JSONDecoder()
_LOOSE = json.JSONDecoder(strict=False)


class Truncation(StrEnum):
    """Whether, and how badly, the text ended before the value did."""

    NONE = "none"
    STRUCTURAL = "structural"
    CONTENT = "content"


@dataclass(frozen=True, slots=True)
class LenientValue:
    """A value read from ``text[start:end]`` plus the repairs that were needed."""

    value: Any
    end: int
    repairs: tuple[str, ...]
    truncation: Truncation


class _SyntaxProblem(Exception):
    """Internal: the text is not a value, even leniently."""


class _Reader:
    __slots__ = ("text", "pos", "end", "repairs", "cut", "structural", "python", "depth")

    def __init__(self, text: str, pos: int, end: int) -> None:
        self.text = text
        self.pos = pos
        self.end = end
        self.repairs: set[str] = set()
        self.cut = False
        self.structural = False
        self.python = False
        self.depth = 0

    def ws(self) -> None:
        m = _WS.match(self.text, self.pos, self.end)
        if m is not None:
            self.pos = m.end()

    def value(self) -> Any:
        self.ws()
        if self.pos >= self.end:
            self.cut = True
            return None
        ch = self.text[self.pos]
        if ch == "{":
            return self.container(is_object=True)
        if ch == "[":
            return self.container(is_object=False)
        if ch in "\"'":
            return self.string()
        if ch in "rR" and self.pos + 1 < self.end and self.text[self.pos + 1] in "\"'":
            self.pos += 1
            return self.string(raw=True)
        m = _NUMBER.match(self.text, self.pos, self.end)
        if m is not None:
            self.pos = m.end()
            token = m.group()
            if self.pos >= self.end:
                self.cut = True  # the number may continue
            try:
                return int(token) if token.lstrip("-").isdigit() else float(token)
            except ValueError as exc:
                raise _SyntaxProblem(token) from exc
        m = _WORD.match(self.text, self.pos, self.end)
        if m is not None and m.group() in _LITERALS:
            self.pos = m.end()
            if m.group()[0].isupper():
                self.python = True
                self.repairs.add("python_literals")
            return _LITERALS[m.group()]
        if (
            m is not None
            and m.end() >= self.end
            and any(lit.startswith(m.group()) for lit in _LITERALS)
        ):
            self.cut = True
            return None
        raise _SyntaxProblem(f"unexpected {ch!r} at {self.pos}")

    def container(self, *, is_object: bool) -> Any:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _SyntaxProblem("nested too deeply")
        close = "}" if is_object else "]"
        self.pos += 1
        obj: dict[str, Any] = {}
        arr: list[Any] = []
        expecting_item = True  # after the opener or a comma
        while True:
            after_value = self.pos
            self.ws()
            if self.pos >= self.end:
                if expecting_item:
                    self.cut = True
                else:
                    self.structural = True
                break
            ch = self.text[self.pos]
            if ch == close:
                if expecting_item and (obj or arr):
                    self.repairs.add("trailing_comma")
                self.pos += 1
                break
            if ch == ",":
                if expecting_item:
                    raise _SyntaxProblem(f"stray comma at {self.pos}")
                self.pos += 1
                expecting_item = True
                continue
            if not expecting_item:
                if is_object and ch in "\"'":
                    self.repairs.add("missing_comma")
                elif "\n" in self.text[after_value : self.pos]:
                    # Prose on a new line where a comma or closer belongs: the value ended.
                    self.structural = True
                    self.pos = after_value
                    break
                else:
                    raise _SyntaxProblem(f"expected ',' or {close!r} at {self.pos}")
            if is_object:
                key = self.key()
                if self.cut:
                    break
                self.ws()
                if self.pos >= self.end:
                    self.cut = True
                    break
                if self.text[self.pos] not in ":=":
                    raise _SyntaxProblem(f"expected ':' at {self.pos}")
                self.pos += 1
                obj[key] = self.value()
            else:
                arr.append(self.value())
            if self.cut:
                break
            expecting_item = False
        self.depth -= 1
        return obj if is_object else arr

    def key(self) -> str:
        ch = self.text[self.pos]
        if ch in "\"'":
            return self.string()
        m = _WORD.match(self.text, self.pos, self.end)
        if m is None:
            raise _SyntaxProblem(f"expected a key at {self.pos}")
        self.pos = m.end()
        if self.pos >= self.end:
            self.cut = True
        self.repairs.add("bare_keys")
        return m.group()

    def string(self, *, raw: bool = False) -> str:
        text, quote = self.text, self.text[self.pos]
        if quote == "'":
            self.python = True
            self.repairs.add("single_quotes")
        if text.startswith(quote * 3, self.pos) and self.pos + 3 <= self.end:
            return self.triple(quote, raw=raw)
        self.pos += 1
        run = _DQ_RUN if quote == '"' else _SQ_RUN
        parts: list[str] = []
        while True:
            m = run.match(text, self.pos, self.end)
            assert m is not None  # a star pattern always matches
            chunk = m.group()
            if _CONTROL.search(chunk) is not None:
                self.repairs.add("raw_control_chars")
            parts.append(chunk)
            self.pos = m.end()
            if self.pos >= self.end:
                self.cut = True
                break
            if text[self.pos] == quote:
                self.pos += 1
                break
            self.escape(parts, raw=raw)
            if self.cut:
                break
        return "".join(parts)

    def triple(self, quote: str, *, raw: bool) -> str:
        closer = quote * 3
        self.pos += 3
        self.repairs.add("triple_quotes")
        parts: list[str] = []
        while True:
            nxt_quote = self.text.find(closer, self.pos, self.end)
            nxt_escape = self.text.find("\\", self.pos, self.end)
            if nxt_quote < 0 and nxt_escape < 0:
                parts.append(self.text[self.pos : self.end])
                self.pos = self.end
                self.cut = True
                return "".join(parts)
            if nxt_escape < 0 or 0 <= nxt_quote < nxt_escape:
                parts.append(self.text[self.pos : nxt_quote])
                self.pos = nxt_quote + 3
                return "".join(parts)
            parts.append(self.text[self.pos : nxt_escape])
            self.pos = nxt_escape
            self.escape(parts, raw=raw)
            if self.cut:
                return "".join(parts)

    def escape(self, parts: list[str], *, raw: bool) -> None:
        """Decode the escape at ``self.pos`` (a backslash) into ``parts``."""
        text = self.text
        if self.pos + 1 >= self.end:
            self.pos = self.end
            self.cut = True
            return
        ch = text[self.pos + 1]
        if raw:
            parts.append(text[self.pos : self.pos + 2])
            self.pos += 2
            return
        simple = _SIMPLE_ESCAPES.get(ch)
        if simple is not None:
            parts.append(simple)
            self.pos += 2
            return
        if ch == "u" or (self.python and ch in "Ux"):
            width = {"u": 4, "U": 8, "x": 2}[ch]
            digits = text[self.pos + 2 : min(self.pos + 2 + width, self.end)]
            if len(digits) < width and self.pos + 2 + width > self.end:
                self.pos = self.end
                self.cut = True
                return
            if len(digits) == width and all(d in _HEX for d in digits):
                code = int(digits, 16)
                self.pos += 2 + width
                if 0xD800 <= code < 0xDC00 and text.startswith("\\u", self.pos):
                    low = text[self.pos + 2 : self.pos + 6]
                    if len(low) == 4 and all(d in _HEX for d in low):
                        low_code = int(low, 16)
                        if 0xDC00 <= low_code < 0xE000:
                            self.pos += 6
                            code = 0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)
                if code <= 0x10FFFF:
                    parts.append(chr(code))
                    return
        elif self.python and (ch in _PY_ESCAPES or ch in "01234567"):
            if ch in _PY_ESCAPES:
                parts.append(_PY_ESCAPES[ch])
                self.pos += 2
                return
            m = _OCTAL.match(text, self.pos + 1, self.end)
            assert m is not None
            parts.append(chr(int(m.group(), 8)))
            self.pos = m.end()
            return
        # An unknown escape is kept verbatim, backslash included (Python does the same).
        self.repairs.add("invalid_escape")
        parts.append(text[self.pos : self.pos + 2])
        self.pos += 2


def read_lenient(text: str, start: int = 0, end: int | None = None) -> LenientValue | None:
    """Read one value starting at ``text[start]`` (after optional whitespace), never past ``end``.

    Returns ``None`` when the text is not a value even leniently.
    """
    stop = len(text) if end is None else min(end, len(text))
    reader = _Reader(text, start, stop)
    try:
        value = reader.value()
    except _SyntaxProblem:
        return None
    if reader.cut:
        truncation = Truncation.CONTENT
    elif reader.structural:
        truncation = Truncation.STRUCTURAL
        reader.repairs.add("closed_brackets")
    else:
        truncation = Truncation.NONE
    return LenientValue(value, reader.pos, tuple(sorted(reader.repairs)), truncation)


def decode_value(text: str, start: int = 0, end: int | None = None) -> LenientValue | None:
    """Read one value at ``text[start]``: strict JSON first (fast), then the lenient reader."""
    stop = len(text) if end is None else min(end, len(text))
    for decoder, repairs in ((_STRICT, ()), (_LOOSE, ("raw_control_chars",))):
        try:
            value, value_end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        if value_end <= stop:
            return LenientValue(value, value_end, repairs, Truncation.NONE)
        break
    return read_lenient(text, start, stop)
