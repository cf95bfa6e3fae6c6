#!/usr/bin/env python3
"""Splits the delivery latency of a delivery_bench --dump CSV in two.

    bench/delivery_breakdown.py DIR/in-process.csv [...]

For every event: emit (agent, ns) -> created_at (the worker's clock when its
append reached the database thread, truncated to ms) -> receipt (client, ns).
  emit -> created_at   agent write, pipe, worker read and parse, hand-off to a
                       database thread (-1..0 ms of truncation error)
  created_at -> recv   wait for the writer, the commit (fsync), the hub's
                       read and fan-out, the SSE write (0..+1 ms of error)
Prints p50/p90/p99/max of each part, and the share of the slowest 1% of
events each part accounts for.
"""
import csv
import math
import sys


def pct(values, p):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))]


def main():
    for path in sys.argv[1:]:
        rows = list(csv.DictReader(open(path)))
        total, pre, post = [], [], []
        for r in rows:
            emit, created, recv = int(r["emit_ns"]), int(r["created_ms"]) * 10**6, int(r["recv_ns"])
            total.append((recv - emit) / 1e6)
            pre.append((created - emit) / 1e6)
            post.append((recv - created) / 1e6)
        print("%s: %d events" % (path, len(rows)))
        for name, v in (("emit -> recv", total), ("emit -> created_at", pre),
                        ("created_at -> recv", post)):
            print("  %-19s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms"
                  % (name, pct(v, 50), pct(v, 90), pct(v, 99), max(v)))
        cut = pct(total, 99)
        tail = [i for i, t in enumerate(total) if t >= cut]
        if tail:
            a = sum(pre[i] for i in tail) / len(tail)
            b = sum(post[i] for i in tail) / len(tail)
            print("  slowest 1%% (%d events, >= %.2f ms): mean %.2f ms before created_at, "
                  "%.2f ms after" % (len(tail), cut, a, b))


if __name__ == "__main__":
    main()
