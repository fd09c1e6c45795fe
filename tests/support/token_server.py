#!/usr/bin/env python3
"""A docker-token-auth server for tests (python3 stdlib + the openssl CLI).

The password comes from $TOKEN_SERVER_PASSWORD (not argv, which `ps` shows).

GET  /token?service=S&scope=repository:R:pull,push   Basic credentials -> a JWT granting the scopes
                                                    (no credentials: a token granting nothing)
POST /token  grant_type=refresh_token|password       the OAuth2 form (refresh token == password)

Tokens are RS256 JWTs signed with `openssl dgst -sha256 -sign KEY`; the signing certificate rides
in the header's x5c, which the registry checks against its rootcertbundle. Tokens live
--ttl seconds. Every issued token is counted on stderr ("issued N").
"""
import argparse
import base64
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(path):
    lines = open(path).read().splitlines()
    body = [l for l in lines if l and not l.startswith("-----")]
    return "".join(body)


class Issuer:
    def __init__(self, args):
        self.args = args
        self.x5c = cert_der_b64(args.cert)
        self.count = 0

    def sign(self, scopes):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                           "actions": parts[-1].split(",")})
        claims = {"iss": self.args.issuer, "sub": self.args.user, "aud": self.args.service,
                  "exp": now + self.args.ttl, "nbf": now - 5, "iat": now,
                  "jti": b64url(os.urandom(12)), "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.args.key],
                             input=signing_input, capture_output=True, check=True).stdout
        self.count += 1
        print("issued %d" % self.count, file=sys.stderr, flush=True)
        return signing_input.decode() + "." + b64url(sig)


def make_handler(issuer):
    args = issuer.args

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def good_basic(self):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return None
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return False
            return hmac.compare_digest(user, args.user) and hmac.compare_digest(pw, args.password)

        def grant(self, scopes):
            token = issuer.sign(scopes)
            self.reply(200, {"token": token, "access_token": token, "expires_in": args.ttl,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path != "/token":
                return self.reply(404, {"error": "not found"})
            query = urllib.parse.parse_qs(url.query)
            ok = self.good_basic()
            if ok is False:
                return self.reply(401, {"error": "bad credentials"})
            self.grant(query.get("scope", []) if ok else [])

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            grant = form.get("grant_type", [""])[0]
            if grant == "refresh_token":
                ok = hmac.compare_digest(form.get("refresh_token", [""])[0], args.password)
            elif grant == "password":
                ok = (form.get("username", [""])[0] == args.user and
                      hmac.compare_digest(form.get("password", [""])[0], args.password))
            else:
                ok = False
            if not ok:
                return self.reply(401, {"error": "invalid_grant"})
            self.grant(form.get("scope", []))

    return Handler


def main():
    p = argparse.ArgumentParser()
    for name in ("key", "cert", "issuer", "service", "user"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ttl", type=int, default=300)
    args = p.parse_args()
    args.password = os.environ.get("TOKEN_SERVER_PASSWORD", "")
    if not args.password:
        p.error("TOKEN_SERVER_PASSWORD is not set")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Issuer(args)))
    server.serve_forever()


if __name__ == "__main__":
    main()
