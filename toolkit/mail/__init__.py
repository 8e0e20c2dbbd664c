"""Step 6 — mail: settings, composing, the SMTP transport and the three mailings."""
