"""Regenerate docs/screenshots/*.png (README "Console and metrics") from the console's browser test:
a fresh Ottla, real clients, Debian's headless chromium. Usage: .venv/bin/python scripts/screenshots.py [DIR]"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    env = {**os.environ, "OTTLA_SCREENSHOTS": str(folder.resolve())}
    env.pop("KAFKA_BOOTSTRAP", None)  # the pages need Ottla's HTTP port: a broker the test starts
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "compat_tests/test_console_browser.py"], cwd=ROOT, env=env)
    if run.returncode == 0:
        print("\n".join(sorted(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
                               for p in folder.glob("*.png"))))
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
