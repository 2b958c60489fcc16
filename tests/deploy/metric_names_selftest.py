#!/usr/bin/env python3
"""Unit test of check_metric_names.metric_names: the PromQL reader finds the metric names
of an expression and nothing else (labels, grouping, functions, keywords, ranges)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_metric_names import metric_names  # noqa: E402

CASES = [
    ('sum by (stage) (rate(faxbridge_queue_claims_total[5m])) * 60', {"faxbridge_queue_claims_total"}),
    ('histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{job="x", le!="+Inf"}[5m])))', {"a_seconds_bucket"}),
    ('up{job=~"bus|router"} == 0 or absent(up{job="media-gateway"})', {"up"}),
    ('sum(increase(x_total[15m])) > 0 unless on (instance) y_total offset 5m', {"x_total", "y_total"}),
    ('a / ignoring(code) group_left b > bool 0.5', {"a", "b"}),
    ('sum without (instance) (rate(c_total{outcome="failed"}[1h:5m]))', {"c_total"}),
    ('1e3 * 2', set()),
]


def main():
    bad = 0
    for expr, want in CASES:
        got = metric_names(expr)
        if got != want:
            bad += 1
            print(f"{expr!r}: got {sorted(got)}, want {sorted(want)}")
    print(f"{len(CASES) - bad}/{len(CASES)} expressions read as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
