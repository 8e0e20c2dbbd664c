"""Step 3 — intake: returned files sniffed, bounded, archived, read and checked into CheckedFile values."""
