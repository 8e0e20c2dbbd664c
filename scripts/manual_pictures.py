"""Pictures of the real outputs for docs/使用手册.md (run `make demo` first).

Usage: python scripts/manual_pictures.py [DEMO_WORKSPACE] [OUTDIR]   (defaults: demo-workspace docs/img)
"""

import sys
from pathlib import Path

from toolkit.demo.pictures import take_pictures

if __name__ == "__main__":
    args = sys.argv[1:]
    workspace = Path(args[0]) if args else Path("demo-workspace")
    outdir = Path(args[1]) if len(args) > 1 else Path("docs/img")
    for path in take_pictures(workspace, outdir):
        print(path)
