#!/usr/bin/env python3
"""Checks API responses against docs/api/openapi.yaml, for the test harness.

The C++ ApiClient (tests/support/api_client.cpp) starts this once per test process and
writes one JSON line per response it received:
    {"method": "GET", "path": "/api/v1/faxes?limit=2", "status": 200,
     "content_type": "application/json", "body": "..."}
and reads one line back: {"ok": true} or {"ok": false, "error": "..."}.

A response passes when the document has an operation for its method and path (the
path matched against the templates, literal segments before parameters), that
operation lists its status (there are no `default` responses: an undocumented status is
drift), its content type is one the response documents (or there is no body where none
is documented), and a JSON body validates against the schema (JSON Schema 2020-12,
which OpenAPI 3.1 uses, with $refs resolved inside the document). A path no operation
has must be answered 404 or 405 with a problem document: that is the server's answer to
an unknown path, not drift.

`--lint` checks the document itself: every operation's responses carry no `default`.
"""
import json
import re
import sys

import warnings

import yaml
warnings.filterwarnings("ignore", category=DeprecationWarning)
from jsonschema import Draft202012Validator, RefResolver  # noqa: E402  (4.10 in Debian 12)
from jsonschema.exceptions import best_match

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = RefResolver.from_schema(self.doc)
        self.templates = []
        for template, item in (self.doc.get("paths") or {}).items():
            segments = template.strip("/").split("/")
            pattern = "^/" + "/".join(
                "[^/]+" if re.fullmatch(r"\{[^}]+\}", s) else re.escape(s) for s in segments) + "$"
            params = sum(1 for s in segments if s.startswith("{"))
            self.templates.append((params, template, re.compile(pattern), item))
        # The most literal template first: /faxes/export before /faxes/{id}.
        self.templates.sort(key=lambda t: (t[0], t[1]))

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def operation(self, method, path):
        for _, template, pattern, item in self.templates:
            if pattern.match(path):
                op = item.get(method.lower())
                return template, op
        return None, None

    def check(self, method, path, status, content_type, body):
        path = path.split("?", 1)[0]
        template, op = self.operation(method, path)
        if template is None or op is None:
            if status in (404, 405) and content_type == "application/problem+json":
                return self.validate_body(
                    {"$ref": "#/components/schemas/Problem"}, body, f"{method} {path} {status}")
            where = "no path matches" if template is None else f"{template} has no {method.lower()} operation"
            return f"{method} {path} answered {status}, but the document does not describe it ({where})"
        responses = op.get("responses", {})
        if "default" in responses:
            return f"{method} {template}: `default` responses hide drift; list each status"
        response = responses.get(str(status))
        if response is None:
            return (f"{method} {template} answered {status}, which the document does not list "
                    f"(it lists {', '.join(sorted(responses))}); body: {body[:300]}")
        response = self.resolve(response)
        content = response.get("content") or {}
        if not content:
            if body:
                return f"{method} {template} {status}: the document says no body, the server sent {len(body)} bytes"
            return None
        media = content.get(content_type)
        if media is None:
            return (f"{method} {template} {status}: content type {content_type!r} is not documented "
                    f"({', '.join(content)})")
        schema = media.get("schema")
        if schema is None or not (content_type.endswith("json")):
            return None
        return self.validate_body(schema, body, f"{method} {template} {status}")

    def validate_body(self, schema, body, where):
        try:
            instance = json.loads(body)
        except ValueError as e:
            return f"{where}: the body is not JSON ({e}): {body[:300]}"
        validator = Draft202012Validator(schema, resolver=self.resolver)
        error = best_match(validator.iter_errors(instance))
        if error is None:
            return None
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        return f"{where}: body at {pointer}: {error.message}; body: {body[:500]}"


def lint(spec):
    problems = []
    for _, template, _, item in spec.templates:
        for method, op in item.items():
            if method in METHODS and "default" in (op.get("responses") or {}):
                problems.append(f"{method.upper()} {template} has a `default` response")
    return problems


def main():
    spec = Spec(sys.argv[1])
    if "--lint" in sys.argv[2:]:
        problems = lint(spec)
        for p in problems:
            print(p)
        return 1 if problems else 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            error = spec.check(r["method"], r["path"], int(r["status"]), r.get("content_type", ""),
                               r.get("body", ""))
        except Exception as e:  # a checker bug must fail the test, not hang it
            error = f"the checker failed: {type(e).__name__}: {e}"
        sys.stdout.write(json.dumps({"ok": error is None, "error": error}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
