#!/usr/bin/env python3
"""Aggregates the GPU sharing benchmark (bench/gpu/mps_client.cu) into bench.json and bench.md.

Input: a directory of client result files named <mode>-k<K>-c<i>.json, each holding the one JSON
line that mps_client printed (mode is "mps" or "timeslice"). A missing or unparsable file counts as
a failed client.

  aggregate.py RESULTS_DIR --json OUT.json --md OUT.md [--title TEXT]
  aggregate.py --self-test

Per (mode, K): aggregate kernels/s (sum over clients), per-client kernels/s, mean of the clients'
mean latency, median of their p50, max of their p99, failed clients. Per K: MPS / time-slicing
throughput ratio. Python 3 standard library only.
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile

NAME = re.compile(r"^(?P<mode>[a-z]+)-k(?P<k>\d+)-c(?P<c>\d+)\.json$")
MODES = ("timeslice", "mps")


def load(results_dir):
    """Returns {(mode, k): [client dict or None, ...]} from the files in results_dir."""
    runs = {}
    for name in sorted(os.listdir(results_dir)):
        m = NAME.match(name)
        if not m:
            continue
        key = (m["mode"], int(m["k"]))
        rec = None
        with open(os.path.join(results_dir, name), encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        rec = None
        if rec is not None and not rec.get("ok", False):
            rec = None
        runs.setdefault(key, []).append(rec)
    return runs


def summarize(runs):
    rows = []
    for (mode, k), clients in sorted(runs.items(), key=lambda kv: (kv[0][1], MODES.index(kv[0][0])
                                                                   if kv[0][0] in MODES else 9)):
        good = [c for c in clients if c is not None]
        row = {"mode": mode, "k": k, "clients": len(clients), "failed": len(clients) - len(good)}
        if good:
            row.update({
                "aggregate_kps": round(sum(c["kps"] for c in good), 1),
                "per_client_kps": round(statistics.mean(c["kps"] for c in good), 1),
                "mean_us": round(statistics.mean(c["mean_us"] for c in good), 2),
                "p50_us": round(statistics.median(c["p50_us"] for c in good), 2),
                "p99_us": round(max(c["p99_us"] for c in good), 2),
                "max_late_ms": round(max(c.get("late_ms", 0.0) for c in good), 1),
                "kernels": sum(c["kernels"] for c in good),
            })
        rows.append(row)
    by = {(r["mode"], r["k"]): r for r in rows}
    for r in rows:
        base = by.get(("timeslice", r["k"]))
        if r["mode"] == "mps" and base and base.get("aggregate_kps") and r.get("aggregate_kps"):
            r["speedup_vs_timeslice"] = round(r["aggregate_kps"] / base["aggregate_kps"], 2)
    return rows


def markdown(rows, title=None):
    out = []
    if title:
        out += [f"### {title}", ""]
    out.append("| K | mode | aggregate kernels/s | per-client kernels/s | mean latency (us) "
               "| p50 (us) | p99 (us, worst client) | MPS gain | failed |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "aggregate_kps" not in r:
            out.append(f"| {r['k']} | {r['mode']} | - | - | - | - | - | - | {r['failed']}/{r['clients']} |")
            continue
        gain = f"{r['speedup_vs_timeslice']:.2f}x" if "speedup_vs_timeslice" in r else ""
        out.append(f"| {r['k']} | {r['mode']} | {r['aggregate_kps']:.0f} | {r['per_client_kps']:.0f} "
                   f"| {r['mean_us']:.1f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {gain} "
                   f"| {r['failed']}/{r['clients']} |")
    return "\n".join(out) + "\n"


def self_test():
    def client(kps, mean, p50, p99, ok=True):
        return json.dumps({"label": "x", "kernels": int(kps * 5), "seconds": 5.0, "kps": kps,
                           "mean_us": mean, "p50_us": p50, "p99_us": p99, "late_ms": 0.0,
                           "ok": ok})
    with tempfile.TemporaryDirectory() as d:
        files = {
            "timeslice-k1-c0.json": client(30000, 33, 32, 40),
            "mps-k1-c0.json": "noise before\n" + client(28000, 35, 34, 45),
            "timeslice-k2-c0.json": client(10000, 100, 90, 900),
            "timeslice-k2-c1.json": client(12000, 80, 70, 800),
            "mps-k2-c0.json": client(25000, 40, 38, 60),
            "mps-k2-c1.json": client(27000, 37, 36, 70),
            "mps-k4-c0.json": "mps_client: cudaFree failed\n",
            "mps-k4-c1.json": client(20000, 50, 48, 90, ok=False),
            "README": "ignored",
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text + "\n")
        rows = summarize(load(d))
        by = {(r["mode"], r["k"]): r for r in rows}
        assert [(r["k"], r["mode"]) for r in rows] == [
            (1, "timeslice"), (1, "mps"), (2, "timeslice"), (2, "mps"), (4, "mps")], rows
        assert by[("timeslice", 2)]["aggregate_kps"] == 22000, by
        assert by[("mps", 2)]["aggregate_kps"] == 52000, by
        assert by[("mps", 2)]["speedup_vs_timeslice"] == round(52000 / 22000, 2), by
        assert by[("timeslice", 2)]["p99_us"] == 900, by
        assert by[("timeslice", 2)]["p50_us"] == 80, by
        assert by[("mps", 1)]["speedup_vs_timeslice"] == round(28000 / 30000, 2), by
        assert by[("mps", 4)]["failed"] == 2 and "aggregate_kps" not in by[("mps", 4)], by
        md = markdown(rows, "t")
        assert "| 2 | mps | 52000 |" in md and "2.36x" in md and "| 4 | mps | - |" in md, md
    print("aggregate.py self-test: ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results_dir", nargs="?")
    ap.add_argument("--json")
    ap.add_argument("--md")
    ap.add_argument("--title")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not a.results_dir:
        ap.error("RESULTS_DIR is required")
    rows = summarize(load(a.results_dir))
    md = markdown(rows, a.title)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"title": a.title, "rows": rows}, f, indent=1)
            f.write("\n")
    if a.md:
        with open(a.md, "w", encoding="utf-8") as f:
            f.write(md)
    sys.stdout.write(md)
    return 0 if rows and all(r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
