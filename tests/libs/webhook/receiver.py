#!/usr/bin/python3
"""A webhook receiver for the dispatcher tests, verifying Standard Webhooks signatures
on its own (hmac/hashlib/base64 for v1, PyNaCl for v1a): nothing of libs/webhook runs here.

usage: receiver.py STATE_DIR [--tls NAME CERT KEY]...
  STATE_DIR/port       written once listening (127.0.0.1, a free port), after every
                       server below
  STATE_DIR/port-NAME  the port of an HTTPS server (one per --tls) serving the same paths
                       with the PEM certificate chain CERT and its key KEY
  STATE_DIR/tls.jsonl  one line per TLS connection: server, handshake (whether it
                       completed), error. cpp-httplib checks the certificate once the
                       handshake is done, so a client that refuses it shows here as a
                       completed handshake with no request in log.jsonl
  STATE_DIR/keys.json  read at every request: {"/path": {"secret": "whsec_..."} or
                       {"public_key": "whpk_..."}}; the test writes it
  STATE_DIR/log.jsonl  one line per request received: server ("plain" or NAME), path,
                       webhook-id, -timestamp, -signature, body, verified (a signature
                       matched the key), status

The path's first segment says how to answer: /ok 200; /fail5 500 for the first five
requests of that path, then 200; /big a 200 with 10 MB; /hang no answer for 60 s;
/gone 410; /drip a 200 whose headers and body come one byte every half second
(each read gets data in time: only a deadline for the whole exchange stops it).
"""
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nacl.exceptions
import nacl.signing

STATE = sys.argv[1]
LOCK = threading.Lock()
COUNTS = {}


def verify(keys, msg_id, timestamp, body, header):
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    for sig in header.split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and "secret" in keys:
            key = base64.b64decode(keys["secret"][len("whsec_"):])
            expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
            if hmac.compare_digest(expected, value):
                return True
        if version == "v1a" and "public_key" in keys:
            vk = nacl.signing.VerifyKey(base64.b64decode(keys["public_key"][len("whpk_"):]))
            try:
                vk.verify(content, base64.b64decode(value))
                return True
            except nacl.exceptions.BadSignatureError:
                pass
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(STATE, "keys.json")) as f:
            keys = json.load(f).get(self.path, {})
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        sig = self.headers.get("webhook-signature", "")
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        mode = self.path.strip("/").split("/")[0]
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            n = COUNTS[self.path]
        status = {"ok": 200, "big": 200, "hang": 200, "gone": 410}.get(mode, 200)
        if mode == "fail5" and n <= 5:
            status = 500
        entry = {"server": self.server.name, "path": self.path, "id": msg_id, "timestamp": ts, "signature": sig,
                 "content_type": self.headers.get("Content-Type", ""), "body": body.decode(),
                 "verified": fresh and verify(keys, msg_id, ts, body, sig), "status": status}
        with LOCK, open(os.path.join(STATE, "log.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")
        if mode == "hang":
            time.sleep(60)
        if mode == "drip":
            try:
                for ch in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
                    self.wfile.write(bytes([ch]))
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        answer = b"x" * (10 * 1024 * 1024) if mode == "big" else b"thanks"
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            for i in range(0, len(answer), 65536):
                self.wfile.write(answer[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name, context=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.name, self.context = name, context

    def finish_request(self, request, client_address):
        if self.context is None:
            return super().finish_request(request, client_address)
        # The handshake in the connection's own thread, not in accept(): a client that
        # stalls or aborts it must not hold up the next one.
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            record_tls(self.name, False, str(e))
            return
        record_tls(self.name, True, "")
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def record_tls(name, handshake, error):
    with LOCK, open(os.path.join(STATE, "tls.jsonl"), "a") as f:
        f.write(json.dumps({"server": name, "handshake": handshake, "error": error}) + "\n")


def announce(name, port):
    with open(os.path.join(STATE, name + ".tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(STATE, name + ".tmp"), os.path.join(STATE, name))


servers = [Server("plain")]
args = sys.argv[2:]
while args:
    if args[0] != "--tls" or len(args) < 4:
        sys.exit("usage: receiver.py STATE_DIR [--tls NAME CERT KEY]...")
    name, cert, key = args[1:4]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers.append(Server(name, context))
    args = args[4:]
for s in servers[1:]:
    announce("port-" + s.name, s.server_address[1])
    threading.Thread(target=s.serve_forever, daemon=True).start()
announce("port", servers[0].server_address[1])
servers[0].serve_forever()
