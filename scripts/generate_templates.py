"""Write every unit's report workbook for a quarter: the same as `ducha generate`.

Usage (from the workspace folder): python scripts/generate_templates.py --period 2024Q1 [--units A,B] [--out DIR] [--json]
"""

import sys

from toolkit.cli.app import main

if __name__ == "__main__":
    sys.argv[1:1] = ["generate"]
    main()
