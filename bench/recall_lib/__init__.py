"""B1 helpers: masked-body cross-file context recall (see bench/context_recall.py)."""
