"""Merge the returned workbooks: the same as `ducha merge --period 2024Q1 [--drop DIR] [--json]`.

Usage (from the workspace folder): python scripts/merge_returns.py --period 2024Q1 [--drop DIR] [--json]
"""

import sys

from toolkit.cli.app import main

if __name__ == "__main__":
    sys.argv[1:1] = ["merge"]
    main()
