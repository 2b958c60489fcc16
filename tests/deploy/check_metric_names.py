#!/usr/bin/env python3
"""Checks that every metric the dashboard and the alert rules use is one Faxbridge exports.

The exported names are read from the C++ sources: every "faxbridge_..." string literal in a
file of libs/ or services/ that registers metrics (calls counter(, gauge( or histogram(
on a metrics::Registry). A histogram also exports NAME_bucket, NAME_sum and NAME_count.
Prometheus' own series (up, scrape_*) are allowed. The used names are read from every
PromQL expression: the targets of deploy/grafana/dashboards/*.json and the `expr` of
deploy/prometheus/rules.yml, with strings, label matchers, ranges, grouping clauses,
keywords and function calls taken out. With --metrics URL... it also requires each used
faxbridge_ name to appear in at least one of those live /metrics pages (a running suite).
Most series are created at their first event (a call, a mail, a conversion), so the live
mode belongs after traffic (an e2e run): on an idle suite 20 of the 29 names are absent.
Exit 1 naming each unknown metric and where it is used.
Usage: check_metric_names.py SOURCE_DIR [--metrics URL ...]
"""
import glob
import json
import re
import sys
import urllib.request

import yaml

REGISTERS = re.compile(r"\b(counter|gauge|histogram)\s*\(")
LITERAL = re.compile(r'"(faxbridge_[a-z0-9_]+)"')
HISTOGRAM = re.compile(r'histogram\s*\(\s*"(faxbridge_[a-z0-9_]+)"')
KEYWORDS = {"by", "without", "and", "or", "unless", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan"}
PROMETHEUS_OWN = re.compile(r"^(up|scrape_[a-z_]+)$")


def exported(source):
    names, histograms = set(), set()
    for path in glob.glob(f"{source}/libs/**/*.[ch]pp", recursive=True) + \
            glob.glob(f"{source}/services/**/*.[ch]pp", recursive=True):
        text = open(path, encoding="utf-8", errors="replace").read()
        if "metrics" not in text or not REGISTERS.search(text):
            continue
        names.update(LITERAL.findall(text))
        histograms.update(HISTOGRAM.findall(text))
    # A histogram registered through a variable: its name is the literal the file passes
    # to histogram( on a later line; the *_seconds convention catches the ones left.
    for h in list(names):
        if h in histograms or h.endswith("_seconds"):
            names.update({h + "_bucket", h + "_sum", h + "_count"})
    return names


def metric_names(expr):
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)          # strings
    e = re.sub(r"\{[^}]*\}", "", e)                         # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                        # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    used = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        used.add(word)
    return used


def expressions(source):
    for path in sorted(glob.glob(f"{source}/deploy/grafana/dashboards/*.json")):
        dash = json.load(open(path))
        stack = list(dash.get("panels", []))
        while stack:
            p = stack.pop()
            stack.extend(p.get("panels", []))
            for t in p.get("targets", []):
                if t.get("expr"):
                    yield f"{path.split('/deploy/')[-1]}: panel {p.get('title')!r}", t["expr"]
    for path in sorted(glob.glob(f"{source}/deploy/prometheus/rules*.yml")):
        for g in yaml.safe_load(open(path))["groups"]:
            for r in g["rules"]:
                yield f"{path.split('/deploy/')[-1]}: {r.get('alert') or r.get('record')}", r["expr"]


def live_names(urls):
    names = set()
    for url in urls:
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        names.update(m.group(1) for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", body, re.M))
    return names


def main():
    source, urls = sys.argv[1], sys.argv[sys.argv.index("--metrics") + 1:] if "--metrics" in sys.argv else []
    known = exported(source)
    live = live_names(urls) if urls else None
    problems, checked, count = [], set(), 0
    for where, expr in expressions(source):
        count += 1
        used = metric_names(expr)
        if not used:
            problems.append(f"{where}: no metric found in {expr!r}")
        for name in sorted(used):
            checked.add(name)
            if PROMETHEUS_OWN.match(name):
                continue
            if name not in known:
                problems.append(f"{where}: {name} is not registered in libs/ or services/")
            elif live is not None and name not in live:
                problems.append(f"{where}: {name} is registered but absent from the live /metrics")
    if count == 0:
        problems.append("no expression found in deploy/grafana/dashboards or deploy/prometheus/rules.yml")
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"ok: {count} expressions, {len(checked)} metrics, all exported ({len(known)} names registered)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
