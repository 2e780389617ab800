"""Tests for the example (they fail until the TODO is implemented)."""

from shapes import circle_area, is_palindrome


def test_circle_area() -> None:
    assert round(circle_area(1.0), 5) == 3.14159


def test_is_palindrome() -> None:
    assert is_palindrome("A man, a plan, a canal: Panama")
    assert not is_palindrome("SmallCode")
