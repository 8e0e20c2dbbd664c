"""Render the quarterly briefing (通报): the same as `ducha briefing --period 2024Q1 [--pdf] [--date D] [--json]`.

Usage (from the workspace folder): python scripts/render_briefing.py --period 2024Q1 [--pdf] [--date 2024-03-29]
"""

import sys

from toolkit.cli.app import main

if __name__ == "__main__":
    sys.argv[1:1] = ["briefing"]
    main()
