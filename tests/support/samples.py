"""The sample task shared by the end-to-end tests: a TODO in ``area`` and the model's answer."""

SOURCE = (
    "import math\n\n\n"
    "def area(r: float) -> float:\n"
    '    """Area of a circle."""\n'
    "    # TODO: use math.pi\n"
    "    raise NotImplementedError\n\n\n"
    "VALUE = 1\n"
)
ANSWER = (
    "```python\ndef area(r: float) -> float:\n"
    '    """Area of a circle."""\n    return math.pi * r * r\n```'
)
IMPLEMENTED = SOURCE.replace(
    "    # TODO: use math.pi\n    raise NotImplementedError\n", "    return math.pi * r * r\n"
)
