"""Build the master ledger from the notice: the same as `ducha ledger build [--force] [--json]`.

Usage (from the workspace folder): python scripts/build_ledger.py [--force] [--json]
"""

import sys

from toolkit.cli.app import main

if __name__ == "__main__":
    sys.argv[1:1] = ["ledger", "build"]
    main()
