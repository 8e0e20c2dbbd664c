"""E-mail a quarter's mail: the same as `ducha send|remind|receipts --send …`.

Usage (from the workspace folder):
    python scripts/send_mail.py send --period 2024Q1 [--dry-run] [--units 市商务局] [--resend] [--json]
    python scripts/send_mail.py remind --period 2024Q1 [--dry-run]
    python scripts/send_mail.py receipts --period 2024Q1 --send
The SMTP password is read from the environment variable DUCHA_SMTP_PASSWORD only.
"""

from toolkit.cli.app import main

if __name__ == "__main__":
    main()
