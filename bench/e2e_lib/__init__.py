"""B6: agent end-to-end task success (SmallCode-LS vs a naive harness vs aider)."""
