"""Subprocess workers run with peer venvs' pythons (stdlib + that venv's packages only)."""
