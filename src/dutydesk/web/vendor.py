"""Copy the built front-end files from ``node_modules`` into ``static/vendor``.

``make vendor`` runs ``npm install`` (versions pinned in ``package.json``) and then this module,
so the repository never carries third-party JavaScript and the server never needs Node.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

#: npm package -> file inside it -> name served under /static/vendor/
FILES: dict[str, tuple[str, str]] = {
    "htmx.org": ("dist/htmx.min.js", "htmx.min.js"),
    "sortablejs": ("Sortable.min.js", "Sortable.min.js"),
    "chart.js": ("dist/chart.umd.min.js", "chart.umd.min.js"),  # report charts only
}
VENDOR_DIR = Path(__file__).parent / "static" / "vendor"


def copy_vendor(node_modules: Path, dest: Path = VENDOR_DIR) -> list[Path]:
    """Copy each needed file; raise FileNotFoundError naming what ``npm install`` should provide."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for package, (inner, name) in FILES.items():
        src = node_modules / package / inner
        if not src.is_file():
            raise FileNotFoundError(
                f"{src} is missing: run `npm install` in the repository root (package.json pins "
                f"{package})"
            )
        target = dest / name
        if not target.exists() or target.read_bytes() != src.read_bytes():
            shutil.copyfile(src, target)
        written.append(target)
    return written


def missing() -> list[str]:
    """Vendor files the web UI needs but that are not there yet (shown on pages as a hint)."""
    return [name for _, name in FILES.values() if not (VENDOR_DIR / name).is_file()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path.cwd()
    try:
        files = copy_vendor(root / "node_modules")
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"vendor: {', '.join(f.name for f in files)} -> {VENDOR_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
