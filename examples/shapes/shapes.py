"""A tiny example project to try SmallCode-LS on: `smallcode-ls run "" examples/shapes/shapes.py`."""

import math


def circle_area(radius: float) -> float:
    """Return the area of a circle with the given radius."""
    return math.pi * radius**2


def is_palindrome(text: str) -> bool:
    """Return True if text reads the same both ways, ignoring case and non-letters."""
    # TODO: implement, ignoring case and anything that is not a letter or digit
    raise NotImplementedError
