#!/usr/bin/env python3
"""Count results in meson testlog JSON files.

Usage: test-summary.py LOG.json [LOG.json ...]
Prints one line per failing test and then "N passed, N failed[, N skipped]".
Exit status 1 when any test failed (or a log is missing or has no tests).
"""
import json
import sys

passed = failed = skipped = 0
bad = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"test-summary: cannot read {path}: {e}", file=sys.stderr)
        failed += 1
        bad.append(path)
        continue
    for t in lines:
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            bad.append(f"{t.get('name')} ({r}) in {path}")
for b in bad:
    print(f"FAILED: {b}")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
