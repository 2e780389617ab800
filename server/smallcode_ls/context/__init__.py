"""Budgeted context from the code graph: what the model sees, counted in its tokens."""
