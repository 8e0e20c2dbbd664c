"""Step 4 — the quarter: the store, the rules for status and lights, and the merged frames."""
