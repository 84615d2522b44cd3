#!/usr/bin/env python3
"""Extraction speed, side by side: Python trafilatura against figwatch, on one core, on the
same pages (trafilatura's 990-page evaluation set), with peak memory.

    python3 benches/extraction_speed.py [../shared/extraction]

Installs trafilatura from PyPI when it is missing. figwatch's numbers come from
`figwatch-eval extraction`, which also times a bare html5ever parse of the same pages.
"""
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import time

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "../shared/extraction")
corpus = os.path.join(root, "trafilatura")
if not os.path.exists(os.path.join(corpus, "evaldata.json")):
    print(f"{corpus}: no evaluation set here; nothing to measure")
    sys.exit(0)

try:
    import lxml_html_clean  # noqa: F401  (justext, which trafilatura uses, needs it)
    import trafilatura
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "trafilatura", "lxml_html_clean"], check=True)
    import trafilatura

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as figwatch is measured

entries = json.load(open(os.path.join(corpus, "evaldata.json"), encoding="utf-8"))
pages = []
for url, e in sorted(entries.items()):
    for sub in ("eval", "cache"):
        path = os.path.join(corpus, sub, e["file"] + ".gz")
        if os.path.exists(path):
            pages.append((url, gzip.open(path).read().decode("utf-8", "replace")))
            break

start = time.perf_counter()
for url, html in pages:
    trafilatura.extract(html, url=url)
elapsed = time.perf_counter() - start
python_rate = len(pages) / elapsed
python_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"python trafilatura {trafilatura.__version__}: {len(pages)} pages, {python_rate:.1f} pages/s, peak memory {python_peak} kB")

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = subprocess.run(
    ["taskset", "-c", str(min(os.sched_getaffinity(0))), "cargo", "run", "--quiet", "--release",
     "--bin", "figwatch-eval", "--", "extraction", root],
    cwd=here, check=True, capture_output=True, text=True,
).stdout
print(out, end="")
m = re.search(r"([\d.]+) pages/s extracting", out)
if m:
    ours = float(m.group(1))
    print(f"figwatch / python trafilatura: {ours / python_rate:.1f}x (target >= 8x)")
