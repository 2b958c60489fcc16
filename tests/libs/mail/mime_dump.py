#!/usr/bin/python3
"""Reads one RFC 5322 message on stdin and prints what a mail client would see, as JSON:
the decoded headers and each leaf part (type, charset, disposition, filename,
Content-ID, size and SHA-256 of its decoded bytes, and the text of text parts).

Python's email package is an implementation independent of vmime (which wrote the
message), so a test that reads the message through it checks the MIME, not vmime
against itself."""
import email
import email.policy
import hashlib
import json
import sys

# With a folder as the first argument, each leaf part's decoded bytes are written there
# too, as <n> in the order of "parts" (to open an attachment with another reader).
save_dir = sys.argv[1] if len(sys.argv) > 1 else None
msg = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.default)
out = {"headers": {k.lower(): str(v) for k, v in msg.items()}, "defects": [str(d) for d in msg.defects], "parts": []}
out["structure"] = []


def walk(part, depth):
    out["structure"].append("  " * depth + part.get_content_type())
    if part.is_multipart():
        for p in part.iter_parts():
            walk(p, depth + 1)
        return
    payload = part.get_payload(decode=True) or b""
    leaf = {
        "type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "content_id": part.get("Content-ID"),
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "defects": [str(d) for d in part.defects],
    }
    if save_dir is not None:
        with open(f"{save_dir}/{len(out['parts'])}", "wb") as f:
            f.write(payload)
    if part.get_content_maintype() == "text":
        leaf["text"] = part.get_content()
    out["parts"].append(leaf)


walk(msg, 0)
json.dump(out, sys.stdout)
