"""Helpers for the B2 edit-application benchmark (`bench/edits.py`)."""
