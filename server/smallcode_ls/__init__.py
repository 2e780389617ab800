"""SmallCode-LS: a coding agent for small local models, living in a Language Server."""

__version__ = "0.1.0"
__all__ = ["__version__"]
