"""Write systemd/requirements.lock: every runtime dependency of terminal-agent (and the build
tools install.sh needs to install the project itself) pinned to one version with its sha256, for
the till's platform (Debian 12: CPython 3.11, x86_64, manylinux wheels). `make lock` runs it;
install.sh installs from it with `pip --require-hashes`, so a tampered or different file on the
index (or in a wheelhouse) is refused.

    python systemd/make_lock.py [--python-version 3.11] [--platform manylinux_2_28_x86_64]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD_TOOLS = ["setuptools>=68", "wheel"]  # install.sh builds the project without isolation


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--python-version", default="3.11")
    ap.add_argument("--platform", action="append",
                    default=None, help="pip --platform (repeatable)")
    args = ap.parse_args()
    platforms = args.platform or ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
                                  "manylinux2014_x86_64"]
    project = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *BUILD_TOOLS]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
               "--ignore-installed", "--only-binary", ":all:", "--target", str(Path(tmp) / "t"),
               "--python-version", args.python_version, "--implementation", "cp",
               *[x for p in platforms for x in ("--platform", p)],
               "--report", str(report), *wanted]
        subprocess.run(cmd, check=True)
        items = json.loads(report.read_text())["install"]
    lines = ["# terminal-agent runtime dependencies, pinned with hashes (made by `make lock`;",
             f"# CPython {args.python_version}, {', '.join(platforms)}). install.sh installs",
             "# them with pip --require-hashes --no-deps: nothing else, nothing altered.", ""]
    for item in sorted(items, key=lambda i: i["metadata"]["name"].lower()):
        meta, info = item["metadata"], item["download_info"]
        digest = info["archive_info"]["hashes"]["sha256"]
        lines.append(f"{meta['name']}=={meta['version']} \\\n    --hash=sha256:{digest}")
    (HERE / "requirements.lock").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'requirements.lock'} ({len(items)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
