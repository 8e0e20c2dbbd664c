"""Run the quarter's routine on schedule: the same as `ducha schedule [--once] [--now …] [--json]`.

Usage (from the workspace folder):
    python scripts/run_schedule.py               # foreground, one check at start and daily at [schedule] time
    python scripts/run_schedule.py --once        # one check, then exit (Windows scheduled task, cron)
"""

import sys

from toolkit.cli.app import main

if __name__ == "__main__":
    sys.argv[1:1] = ["schedule"]
    main()
