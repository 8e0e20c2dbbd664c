"""`python -m toolkit.demo [FOLDER]`: play a quarter end to end (what `make demo` runs)."""

import sys
from pathlib import Path

from toolkit.demo.play import DEMO_DIR, main

sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_DIR))
