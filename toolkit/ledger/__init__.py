"""Step 1 — the master ledger: the notice parsed into tasks, units and targets, kept as an Excel file the clerk edits."""
