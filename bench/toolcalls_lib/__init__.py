"""Helpers for bench/toolcalls.py (benchmark B3): workload, message variants, peer parsers."""
