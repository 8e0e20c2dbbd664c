"""The `ducha` command line, one module per family of commands (app.py holds the root)."""
