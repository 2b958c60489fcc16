#!/usr/bin/env python3
"""Checks the Kubernetes base as kubectl renders it (deploy/k8s, kustomize).

Renders with `kubectl kustomize` (the machine's kubectl; never Debian's kubernetes-client)
and refuses, naming the object: a Deployment whose containers lack a readiness or liveness
probe, resource requests or limits (cpu and memory requested, memory limited); a probe on a
port the container does not declare; a Service whose selector matches no Deployment, or one
of whose ports targets a container port (by name or number and protocol) that no selected
Deployment declares. Exit 1 with one line per problem; 0 prints what was checked.
Usage: check_k8s.py SOURCE_DIR [KUSTOMIZE_DIR]
"""
import subprocess
import sys

import yaml


def render(path):
    try:
        out = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True)
    except FileNotFoundError:
        sys.exit("kubectl is not on PATH: the machines have kubectl 1.32 (kustomize 5.5) from their "
                 "own package; Debian's kubernetes-client conflicts with it")
    if out.returncode != 0:
        sys.exit(f"kubectl kustomize {path} failed: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def ports_of(container):
    return container.get("ports") or []


def port_matches(target, protocol, port):
    if port.get("protocol", "TCP") != protocol:
        return False
    return target == port.get("name") or target == port.get("containerPort")


def check_probe(where, container, kind, problems):
    probe = container.get(kind)
    if not probe:
        problems.append(f"{where}: no {kind}")
        return
    http = probe.get("httpGet") or probe.get("tcpSocket")
    if http is None:
        return  # exec probes need no port
    target = http.get("port")
    if not any(port_matches(target, "TCP", p) for p in ports_of(container)):
        problems.append(f"{where}: {kind} uses port {target!r}, which the container does not declare")


def main():
    source = sys.argv[1]
    base = sys.argv[2] if len(sys.argv) > 2 else f"{source}/deploy/k8s"
    docs = render(base)
    problems = []
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    services = [d for d in docs if d["kind"] == "Service"]
    if not deployments:
        problems.append("no Deployment rendered")
    for d in deployments:
        name = d["metadata"]["name"]
        for c in d["spec"]["template"]["spec"]["containers"]:
            where = f"Deployment {name} container {c['name']}"
            check_probe(where, c, "readinessProbe", problems)
            check_probe(where, c, "livenessProbe", problems)
            res = c.get("resources") or {}
            req, lim = res.get("requests") or {}, res.get("limits") or {}
            for key in ("cpu", "memory"):
                if key not in req:
                    problems.append(f"{where}: no {key} request")
            if "memory" not in lim:
                problems.append(f"{where}: no memory limit")
    for s in services:
        name = s["metadata"]["name"]
        selector = s["spec"].get("selector") or {}
        chosen = [d for d in deployments
                  if selector and all(d["spec"]["template"]["metadata"].get("labels", {}).get(k) == v
                                      for k, v in selector.items())]
        if not chosen:
            problems.append(f"Service {name}: its selector {selector} matches no Deployment")
            continue
        declared = [p for d in chosen for c in d["spec"]["template"]["spec"]["containers"] for p in ports_of(c)]
        for p in s["spec"]["ports"]:
            target = p.get("targetPort", p["port"])
            protocol = p.get("protocol", "TCP")
            if not any(port_matches(target, protocol, q) for q in declared):
                problems.append(f"Service {name}: port {p.get('name', p['port'])} targets {target!r}/{protocol}, "
                                "which no container it selects declares")
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"ok: {len(deployments)} Deployments, {len(services)} Services, "
          f"{sum(d['kind'] == 'PodDisruptionBudget' for d in docs)} PodDisruptionBudgets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
