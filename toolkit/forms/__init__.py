"""Step 2 — the forms units fill: who gets what, the signed workbook, and the generate run."""
