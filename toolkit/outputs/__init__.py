"""Step 5 — outputs: 汇总表, the receipts and the briefing, written from a MergedQuarter."""
