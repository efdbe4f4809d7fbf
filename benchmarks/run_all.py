"""Run every benchmark at its default size (M where it needs an archive) and print their tables.

    python benchmarks/run_all.py            # all of them, one after another (tens of minutes at M)
    python benchmarks/run_all.py ingest voice   # only the ones named (by file stem without `bench_`)

Each benchmark is its own script (see its docstring for flags such as `--sizes M,L`); this runner only
starts them in turn and reports which ones failed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["ingest", "demo", "score", "voice", "drift_adoption", "load", "real_data"]


def _script(name: str) -> Path:
    path = HERE / (f"{name}.py" if name == "real_data" else f"bench_{name}.py")
    if not path.exists():
        raise SystemExit(f"unknown benchmark {name!r}; choose from: {', '.join(ORDER)}")
    return path


def main(names: list[str]) -> int:
    """Run the named benchmarks (all by default); return the number that failed."""
    failed = []
    for name in names or ORDER:
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, str(_script(name))], cwd=HERE.parent).returncode != 0:
            failed.append(name)
    print(f"\n{len(names or ORDER) - len(failed)} benchmark(s) ran, {len(failed)} failed: {', '.join(failed) or '-'}")
    return len(failed)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
