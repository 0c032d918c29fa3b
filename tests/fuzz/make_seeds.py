#!/usr/bin/env python3
"""Writes the seed inputs of the DNS fuzz targets into tests/fuzz/corpus/<target>/.

The seeds are committed as binary files; run this again only to change them. Names refer to the
zone of dns_responder_fuzz.cpp (acme.fuzz.test). Every query seed goes to both targets; the
hand-made responses (compressed names, names inside rdata) only to dns_message.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, OPT, IXFR, AXFR, ANY, CAA = (
    1, 2, 5, 6, 12, 15, 16, 28, 41, 251, 252, 255, 257)
IN, CH = 1, 3


def name(text):
    """Uncompressed wire name, case kept."""
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(ident=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def opt(payload=1232, version=0, do=False, rdata=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack(">HHIH", OPT, payload, ttl, len(rdata)) + rdata


def query(qname, qtype, qclass=IN, ident=0x1234, flags=0x0100, edns=None, **kw):
    additional = b""
    ar = 0
    if edns is not None:
        additional = opt(edns, **kw)
        ar = 1
    return header(ident, flags, 1, 0, 0, ar) + name(qname) + struct.pack(">HH", qtype, qclass) + additional


def rr(owner, rtype, rdata, ttl=300, klass=IN):
    return owner + struct.pack(">HHIH", rtype, klass, ttl, len(rdata)) + rdata


def compressed_response():
    """A response using pointers everywhere a name may be compressed (RFC 1035 4.1.4)."""
    msg = header(0xBEEF, 0x8500, qd=1, an=4, ns=1, ar=2)
    q_at = len(msg)  # 12: www.acme.fuzz.test
    msg += name("www.acme.fuzz.test") + struct.pack(">HH", A, IN)
    apex = q_at + 4  # acme.fuzz.test inside the question
    ptr = lambda at: struct.pack(">H", 0xC000 | at)  # noqa: E731
    msg += rr(ptr(q_at), CNAME, b"\x05alias" + ptr(apex))
    msg += rr(ptr(apex), MX, struct.pack(">H", 10) + b"\x04mail" + ptr(apex))
    msg += rr(ptr(apex), NS, b"\x03ns1" + ptr(apex))
    msg += rr(ptr(apex), TXT, b"\x0bhello world\x03two")
    soa = b"\x03ns1" + ptr(apex) + b"\x0ahostmaster" + ptr(apex) + struct.pack(">IIIII", 1, 3600, 600, 1209600, 30)
    msg += rr(ptr(apex), SOA, soa, ttl=30)
    msg += rr(b"\x03ns1" + ptr(apex), A, bytes([192, 0, 2, 53]))
    msg += opt(1232)
    return msg


def seeds():
    both = {
        "soa_apex": query("acme.fuzz.test", SOA),
        "soa_edns": query("acme.fuzz.test", SOA, edns=1232),
        "ns_glue": query("acme.fuzz.test", NS, edns=4096),
        "txt_challenge_edns": query("_acme-challenge.www.acme.fuzz.test", TXT, edns=1232),
        "txt_challenge_0x20": query("_ACME-Challenge.WwW.aCMe.FUZZ.test", TXT, edns=1232),
        "txt_dynamic_k3f9": query("k3f9.acme.fuzz.test", TXT),
        "txt_many_tc": query("many.acme.fuzz.test", TXT, edns=1232),
        "txt_big_512": query("big.acme.fuzz.test", TXT),
        "txt_static_and_dynamic": query("static.acme.fuzz.test", TXT, edns=512, do=True),
        "any_apex": query("acme.fuzz.test", ANY, edns=1232),
        "any_challenge": query("_acme-challenge.www.acme.fuzz.test", ANY),
        "cname_chain": query("www.acme.fuzz.test", A, edns=1232),
        "cname_loop": query("loop1.acme.fuzz.test", TXT),
        "cname_outside": query("outside.acme.fuzz.test", AAAA),
        "cname_qtype": query("www.acme.fuzz.test", CNAME),
        "mx_apex": query("acme.fuzz.test", MX),
        "caa_apex": query("acme.fuzz.test", CAA),
        "ptr": query("ptr.acme.fuzz.test", PTR),
        "nxdomain": query("nope.acme.fuzz.test", A, edns=1232),
        "nodata_ent": query("y.z.acme.fuzz.test", A),
        "nodata_static_ent": query("below.tree.acme.fuzz.test", TXT),
        "nested_zone": query("x.sub.acme.fuzz.test", TXT, edns=1232),
        "refused_outside": query("example.com", A),
        "refused_chaos": query("version.bind", TXT, qclass=CH),
        "refused_axfr": query("acme.fuzz.test", AXFR),
        "refused_ixfr": query("acme.fuzz.test", IXFR),
        "badvers": query("acme.fuzz.test", SOA, edns=1232, version=1),
        "edns_small_payload": query("acme.fuzz.test", NS, edns=100),
        "edns_with_option": header(ar=1) + name("acme.fuzz.test") + struct.pack(">HH", SOA, IN)
        + opt(1232, rdata=struct.pack(">HH", 10, 8) + b"\x01\x02\x03\x04\x05\x06\x07\x08"),
        "notimp_notify": query("acme.fuzz.test", SOA, flags=0x2000),
        "formerr_two_questions": header(qd=2) + (name("acme.fuzz.test") + struct.pack(">HH", A, IN)) * 2,
        "formerr_no_question": header(qd=0),
        "formerr_two_opt": header(ar=2) + name("acme.fuzz.test") + struct.pack(">HH", A, IN) + opt() + opt(),
        "formerr_opt_not_root": header(ar=1) + name("acme.fuzz.test") + struct.pack(">HH", A, IN)
        + name("x") + struct.pack(">HHIH", OPT, 1232, 0, 0),
        "formerr_trailing": query("acme.fuzz.test", A) + b"\0\0\0",
        # The question's name compressed: a pointer back into the header.
        "compressed_question": header() + b"\x04acme\xc0\x05" + struct.pack(">HH", A, IN),
        # A pointer to itself: must be refused, never followed.
        "pointer_loop": header() + b"\xc0\x0c" + struct.pack(">HH", A, IN),
        # Two pointers pointing at each other.
        "pointer_pair": header(an=1) + b"\xc0\x12" + struct.pack(">HH", A, IN) + b"\xc0\x0c"
        + struct.pack(">HHIH", A, IN, 0, 0),
        "label_0x40": header() + b"\x44acme\x00" + struct.pack(">HH", A, IN),
        "truncated": query("_acme-challenge.www.acme.fuzz.test", TXT, edns=1232)[:20],
        "truncated_header": header()[:7],
        "response_dropped": query("acme.fuzz.test", SOA, flags=0x8000),
        "max_length_name": query(".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61]), A),
        # Reproducers of writer::write_name comparing a name against its own unwritten tail
        # (src/dns/message.cpp matches_at): a self-pointer in the echoed question, and an
        # out-of-bounds read when the buffer holds old bytes.
        "repro_writer_repeated_label": query("a.a", A),
        "repro_writer_repeated_apex": query("acme.fuzz.test.acme.fuzz.test", TXT, edns=1232),
        "counts_too_large": header(an=0xFFFF, ns=0xFFFF, ar=0xFFFF) + name("acme.fuzz.test") + struct.pack(">HH", A, IN),
    }
    message_only = {
        "response_compressed": compressed_response(),
        "response_truncated_rdata": compressed_response()[:-30],
    }
    return both, message_only


def write(target, items):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for label, data in items.items():
        with open(os.path.join(directory, label), "wb") as f:
            f.write(data)


def main():
    both, message_only = seeds()
    write("dns_message", {**both, **message_only})
    write("dns_responder", both)
    return 0


if __name__ == "__main__":
    sys.exit(main())
