#!/usr/bin/env python3
"""A man in the middle for the agent tests: a TLS listener on loopback with the certfleet server's
own certificate and key (so the agent's pin holds), forwarding each request to the server and,
for poll answers, changing the bundles as the control file says:
  pass    forward as is (and remember the first bundle seen)
  tamper  change one character of each bundle's signature
  replay  answer with the first bundle seen, whatever the server sent
  foreign NAME  answer with the first bundle seen that was made for agent NAME
Usage: bundle_mitm.py CERT KEY LISTEN_PORT UPSTREAM_PORT CONTROL_FILE"""
import base64
import json
import socket
import socketserver
import ssl
import sys
import threading

cert, key, listen_port, upstream_port, control = sys.argv[1:6]
seen = []  # every bundle that went through, in order
lock = threading.Lock()


def read_message(stream):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = stream.recv(1)
        if not chunk:
            return None, None
        head += chunk
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = b""
    while len(body) < length:
        chunk = stream.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return head, body


def agent_of(bundle):
    payload = json.loads(bundle)["payload"]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["agent"]


def rewrite(body):
    with open(control) as f:
        mode = f.read().strip()
    answer = json.loads(body)
    bundles = answer.get("bundles") or []
    with lock:
        seen.extend(b for b in bundles if b not in seen)
        if mode == "tamper" and bundles:
            changed = []
            for text in bundles:
                jws = json.loads(text)
                signature = jws["signature"]
                jws["signature"] = ("B" if signature[10] == "A" else "A").join(
                    [signature[:10], signature[11:]])
                changed.append(json.dumps(jws))
            answer["bundles"] = changed
        elif mode == "replay" and seen:
            answer["bundles"] = [seen[0]]
        elif mode.startswith("foreign "):
            answer["bundles"] = [b for b in seen if agent_of(b) == mode.split()[1]][:1]
    return json.dumps(answer).encode()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        head, body = read_message(self.request)
        if head is None:
            return
        head = head.replace(b"Connection: Keep-Alive", b"Connection: close")
        upstream_context = ssl.create_default_context()
        upstream_context.check_hostname = False
        upstream_context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", int(upstream_port))) as raw:
            with upstream_context.wrap_socket(raw) as upstream:
                upstream.sendall(head + body)
                answer_head, answer_body = read_message(upstream)
        if answer_head is None:
            return
        if head.startswith(b"POST ") and b"/agent/poll" in head.split(b"\r\n")[0]:
            answer_body = rewrite(answer_body)
        lines = [line for line in answer_head.split(b"\r\n")
                 if line and not line.lower().startswith(b"content-length:")
                 and not line.lower().startswith(b"connection:")]
        lines += [b"Content-Length: %d" % len(answer_body), b"Connection: close"]
        self.request.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + answer_body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        sock, address = super().get_request()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context.wrap_socket(sock, server_side=True), address


Server(("127.0.0.1", int(listen_port)), Handler).serve_forever()
