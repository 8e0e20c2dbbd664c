"""The quarterly briefing (通报): context from the merged quarter, templates, Word, PDF."""
