#!/usr/bin/env python3
"""A stand-in for an RRAS SSTP listener, for `certfleet probe` tests.

    sstp_listener.py --host 127.0.0.1 --port PORT --cert CERT.pem --key KEY.pem --mode sstp|tls

Serves TLS on HOST:PORT (IPv4 or IPv6 literal) with the given certificate and key and prints
"ready" on stdout once it listens. Each connection reads one request head, then:
  mode "sstp": SSTP_DUPLEX_POST to /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ over HTTP/1.1 gets
    the answer of MS-SSTP 3.3.5.2 (4.1): "HTTP/1.1 200", Content-Length ULONGLONG_MAX, Server
    Microsoft-HTTPAPI/2.0 and a Date, and the connection stays open (SSTP packets would follow)
    until the client closes it; anything else gets 404, as HTTP.SYS answers an unknown URL;
  mode "tls": every request gets 404 (a TLS port without SSTP behind it).
Each handshake prints "sni NAME" (or "sni none") on stdout, so tests can see what was sent.
Runs until it is signalled; each connection has a thread of its own.
"""
import argparse
import email.utils
import socket
import ssl
import sys
import threading

SSTP_LINE = b"SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1"
MAX_HEAD = 16 * 1024


def read_head(conn):
    head = b""
    while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        head += chunk
    return head


def serve(conn, mode):
    try:
        head = read_head(conn)
        if head is None:
            return
        request_line = head.split(b"\r\n", 1)[0]
        if mode == "sstp" and request_line == SSTP_LINE:
            date = email.utils.formatdate(usegmt=True)
            conn.sendall(
                b"HTTP/1.1 200\r\nContent-Length: 18446744073709551615\r\n"
                b"Server: Microsoft-HTTPAPI/2.0\r\nDate: " + date.encode() + b"\r\n\r\n"
            )
            while conn.recv(4096):  # SSTP would run here; hold the connection until closed
                pass
        else:
            body = b"<h1>Not Found</h1>"
            conn.sendall(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nServer: "
                b"Microsoft-HTTPAPI/2.0\r\nContent-Length: " + str(len(body)).encode() +
                b"\r\nConnection: close\r\n\r\n" + body
            )
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--mode", choices=["sstp", "tls"], required=True)
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.sni_callback = lambda _sock, name, _ctx: print(f"sni {name or 'none'}", flush=True)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(16)
    print("ready", flush=True)
    while True:
        raw, _ = listener.accept()
        raw.settimeout(30)

        def handshake_and_serve(raw=raw):
            try:
                conn = context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                return
            serve(conn, args.mode)

        threading.Thread(target=handshake_and_serve, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
