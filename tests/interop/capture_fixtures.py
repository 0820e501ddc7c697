#!/usr/bin/env python3
"""Records real token-endpoint answers of panva's oidc-provider as fixtures.

Starts tests/interop/server.mjs (the pinned oidc-provider the interop test talks to)
on 127.0.0.1 with a throw-away CA made by openssl, drives its authorization endpoint
through the script's stdin protocol to get codes, POSTs token requests with Python's
http.client, and writes each answer's body, byte for byte as received, to
tests/fixtures/oidc-provider-<case>.json. Prints the rows of SOURCES.md's "Recorded from a
running server" table (status, Content-Type, WWW-Authenticate) to stdout.

The bodies hold tokens of a server that lived for a few seconds on loopback; they
grant nothing. Run from anywhere, after `npm ci` in tests/interop:

    python3 tests/interop/capture_fixtures.py
"""
import base64
import hashlib
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")

ODD_ID = "odd id:100%+/="
ODD_SECRET = "odd secret: 50%+50%/2==1"
PLAIN_ID = "plain-client"
PLAIN_SECRET = "plain-secret-0123456789"
PUBLIC_ID = "public-pkce-client"
REDIRECT = "https://client.example/cb"
SCOPE = "api:read api:write"


def make_certs(d):
    """A CA and a leaf for 127.0.0.1 signed by it (openssl, EC P-256)."""
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in
                                  ("ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(d, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ca_key)
    run("openssl", "req", "-x509", "-new", "-key", ca_key, "-days", "2", "-subj",
        "/CN=picoauth capture CA", "-out", ca)
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    run("openssl", "req", "-new", "-key", key, "-subj", "/CN=127.0.0.1", "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", cert)
    return ca, cert, key


def form_encode(s):
    """RFC 6749 §2.3.1: application/x-www-form-urlencoded (space as '+')."""
    return urllib.parse.quote_plus(s, safe="")


def basic(client_id, secret):
    raw = f"{form_encode(client_id)}:{form_encode(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class Peer:
    def __init__(self, ca, cert, key):
        env = dict(os.environ, INTEROP_CERT=cert, INTEROP_KEY=key, INTEROP_CA=ca,
                   INTEROP_HOST="127.0.0.1", INTEROP_PORT="0")
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "server.mjs")], cwd=HERE,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        ready = json.loads(self.proc.stdout.readline())
        assert ready.get("ready"), ready
        self.port = ready["port"]
        self.version = ready["version"]
        self.ctx = ssl.create_default_context(cafile=ca)
        self.next_id = 0

    def authorize(self, client_id, scope=SCOPE, challenge=None):
        self.next_id += 1
        cmd = {"id": self.next_id, "op": "authorize", "client_id": client_id, "scope": scope}
        if challenge:
            cmd["code_challenge"] = challenge
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert "code" in answer, answer
        return answer["code"]

    def token(self, params, auth=None, path="/token"):
        body = urllib.parse.urlencode(params)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheader("Content-Type"), resp.getheader("WWW-Authenticate"), data

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def main():
    rows = []
    with tempfile.TemporaryDirectory() as d:
        peer = Peer(*make_certs(d))
        odd = basic(ODD_ID, ODD_SECRET)

        def save(case, result, what):
            status, ctype, www, body = result
            name = f"oidc-provider-{case}.json"
            with open(os.path.join(FIXTURES, name), "wb") as f:
                f.write(body)
            extra = ""
            if www:
                # The realm names the server's random port; keep the row stable.
                www = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", www)
                extra = f"; WWW-Authenticate: `{www}`"
            rows.append(f"| {name} | panva/oidc-provider {peer.version} | {what} | "
                        f"HTTP {status}, `{ctype}`{extra} |")
            return body

        code = peer.authorize(ODD_ID)
        grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        body = save("code-basic", peer.token(grant, odd),
                    "authorization_code with client_secret_basic")
        refresh = json.loads(body)["refresh_token"]
        save("refresh", peer.token({"grant_type": "refresh_token", "refresh_token": refresh,
                                    "scope": "api:read"}, odd),
             "refresh_token narrowing the scope")
        save("refresh-wider-scope",
             peer.token({"grant_type": "refresh_token", "refresh_token": refresh,
                         "scope": "api:read api:admin"}, odd),
             "refresh_token asking for a scope never granted")
        # After the refreshes: a reused code makes the server revoke the whole grant.
        save("code-reused", peer.token(grant, odd), "the same code a second time")
        save("client-credentials",
             peer.token({"grant_type": "client_credentials", "scope": "api:read"}, odd),
             "client_credentials with client_secret_basic")
        save("bad-secret",
             peer.token({"grant_type": "client_credentials"}, basic(ODD_ID, "wrong")),
             "client_credentials with a wrong secret in Basic")
        save("grant-not-allowed",
             peer.token({"grant_type": "client_credentials", "client_id": PLAIN_ID,
                         "client_secret": PLAIN_SECRET}),
             "client_credentials by a client not allowed that grant")
        save("unsupported-grant-type",
             peer.token({"grant_type": "client_credentials", "client_id": PLAIN_ID,
                         "client_secret": PLAIN_SECRET}, path="/strict/token"),
             "client_credentials at a provider without that grant")
        save("missing-code",
             peer.token({"grant_type": "authorization_code", "redirect_uri": REDIRECT}, odd),
             "authorization_code without `code`")
        verifier = base64.urlsafe_b64encode(b"\x07" * 32).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        code = peer.authorize(PUBLIC_ID, challenge=challenge)
        save("pkce-wrong-verifier",
             peer.token({"grant_type": "authorization_code", "code": code,
                         "redirect_uri": REDIRECT, "client_id": PUBLIC_ID,
                         "code_verifier": "x" * 43}),
             "public client, authorization_code with the wrong PKCE verifier")
        peer.close()
    print("\n".join(rows))


if __name__ == "__main__":
    sys.exit(main())
