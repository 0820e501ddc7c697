#!/usr/bin/env python3
"""Regenerates the seed corpora under fuzz/corpus/ from the real provider bodies.

JSON targets get the bodies as they are. The HTTP and exchange targets get each body
wrapped in an HTTP/1.1 response with the status SOURCES.md gives, framed once by
Content-Length and once chunked, behind the two-byte framing prefix
(`[selector, n, sizes...]`, see fuzz/src/lib.rs). Callback targets get the redirect
examples of SOURCES.md. Run from anywhere: `python3 fuzz/gen_corpus.py`.
"""
import hashlib
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = [
    os.path.join(HERE, "..", "tests", "fixtures"),
    os.path.join(HERE, "..", "..", "shared", "fixtures"),
]
CORPUS = os.path.join(HERE, "corpus")


def statuses(sources):
    out = {}
    for line in open(sources, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].endswith(".json"):
            m = re.search(r"\b([1-5]\d\d)\b", cells[-1])
            out[cells[0]] = (int(m.group(1)) if m else 200, "no Content-Type" in cells[-1])
    return out


def bodies():
    seen, out = set(), []
    for d in FIXTURES:
        if not os.path.isdir(d):
            continue
        st = statuses(os.path.join(d, "SOURCES.md")) if os.path.exists(os.path.join(d, "SOURCES.md")) else {}
        for name in sorted(os.listdir(d)):
            if not name.endswith(".json"):
                continue
            data = open(os.path.join(d, name), "rb").read()
            if data in seen:
                continue
            seen.add(data)
            status, no_ct = st.get(name, (200, False))
            out.append((name[:-5], data, status, no_ct))
    return out


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}


def head(status, no_ct, extra):
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    if not no_ct:
        lines.append("Content-Type: application/json; charset=utf-8")
    if status == 429:
        lines.append("Retry-After: 1")
    lines += extra
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(body, size):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)


def main():
    fixtures = bodies()
    for target in ["json_slack_v2", "json_slack_v1", "json_pinterest", "json_rfc6749", "json_differential"]:
        for name, body, _, _ in fixtures:
            write(target, name, body)
    for name, body, status, no_ct in fixtures:
        by_length = head(status, no_ct, [f"Content-Length: {len(body)}"]) + body
        by_chunks = head(status, no_ct, ["Transfer-Encoding: chunked"]) + chunked(body, 64)
        for target in ["http_response", "exchange"]:
            # Whole reads into the default buffer; then 7-then-1-byte reads.
            write(target, name + ".length", bytes([0, 0]) + by_length)
            write(target, name + ".chunked", bytes([0, 2, 7, 1]) + by_chunks)
    # The recorded 429 with no body, closed by the server, and an HTML proxy error.
    close_429 = b"HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n\r\n"
    html = b"<html>bad gateway</html>"
    proxy_502 = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(html), html)
    for target in ["http_response", "exchange"]:
        write(target, "slack-v2-recorded-429-close", bytes([0, 0]) + close_429)
        write(target, "proxy-502-html", bytes([1, 1, 3]) + proxy_502)
    callbacks = [
        b"/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
        b"https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
        b"https://client.example.com/cb?error=access_denied&state=xyz",
        b"test-path?code=test-code&state=test-secret",
        b"code=test-code&state=wrong-test-secret",
        b"error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fx%2Fe&state=xyz&iss=https%3A%2F%2Fas.example",
        b"grant_type=authorization_code&code=ccc&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&redirect_uri=https%3A%2F%2Fredirect%2Fhere&foo=bar",
        b"grant_type=client_credentials&scope=user_accounts%3Aread%2Cpins%3Aread%2Cboards%3Aread",
    ]
    for i, c in enumerate(callbacks):
        write("form_decode", f"callback-{i}", c)
    # Arbitrary-derived input: any bytes are valid; start from readable strings.
    for i, c in enumerate(callbacks[:4] + [b"\x03\x00https://auth.example.com:8443/oauth/token\x00\x00s6BhdRkqt3\x00gX1fBat3bV"]):
        write("request_encode", f"seed-{i}", c)


if __name__ == "__main__":
    main()
