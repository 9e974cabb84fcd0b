"""A Flask app behind Gatehouse that believes only the signed identity (Remote-JWT).

Every request must carry a JWT that Gatehouse signed for this app's host; the
signature is checked against Gatehouse's published keys (JWKS), and so are the
issuer, the audience, the lifetime and the algorithm. Anything else is 401,
whatever Remote-User says: a proxy that lets a client's headers through cannot
make this app believe a forged identity.

Settings (environment):
  GATEHOUSE_JWKS_URL   Gatehouse's key set, e.g. https://auth.example.com/.well-known/jwks.json
  GATEHOUSE_ISSUER     Gatehouse's PUBLIC_URL (origin), e.g. https://auth.example.com
  APP_AUDIENCE         this app's host as users reach it, e.g. app.example.com (lower-case, with :port if not 80/443)
  IDENTITY_JWT_HEADER  the header (default Remote-JWT), as Gatehouse's IDENTITY_JWT_HEADER
  JWKS_CACHE_SECONDS   how long the key set is cached (default 300); a removed key stops working after it
  HOST, PORT           where to listen (default 127.0.0.1:5000)
"""

import html
import os
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from flask import Flask, g, jsonify, request
from jwt import PyJWKClient

ALLOWED_ALGORITHMS = ["ES256", "EdDSA"]
LEEWAY_SECONDS = 5


def required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        sys.exit(f"{name} must be set (see the top of app.py)")
    return value


JWKS_URL = required("GATEHOUSE_JWKS_URL")
ISSUER = required("GATEHOUSE_ISSUER").rstrip("/")
AUDIENCE = required("APP_AUDIENCE").lower()
HEADER = os.environ.get("IDENTITY_JWT_HEADER", "Remote-JWT")
JWKS_CACHE_SECONDS = int(os.environ.get("JWKS_CACHE_SECONDS", "300"))

# cache_keys stays off: a key removed from the JWKS must stop verifying once the cached set expires.
jwks_client = PyJWKClient(JWKS_URL, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS)

app = Flask(__name__)


def algorithm_of(key):
    """The one algorithm a published key is for (PyJWT 2.6 does not say): ES256 for P-256, EdDSA for Ed25519."""
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    return None


def verified_claims(token):
    """The claims of a valid Gatehouse JWT for this app, or None."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS or not isinstance(header.get("kid"), str):
            return None
        signing_key = jwks_client.get_signing_key(header["kid"])
        # The key decides the algorithm: a token may not pick another one for it.
        algorithm = algorithm_of(signing_key.key)
        if algorithm not in ALLOWED_ALGORITHMS or algorithm != header["alg"]:
            return None
        return jwt.decode(
            token,
            signing_key.key,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "sub", "exp", "iat", "nbf"]},
        )
    except Exception as err:  # any failure (bad token, unknown key, JWKS unreachable) is "not signed in"
        app.logger.info("identity token refused: %s", type(err).__name__)
        return None


@app.before_request
def require_identity():
    if request.path == "/healthz":
        return None
    # Remote-User, Remote-Groups… are ignored: only the signed token counts.
    claims = verified_claims(request.headers.get(HEADER, ""))
    if claims is None:
        return jsonify(error="a valid Gatehouse identity token is required", code="unauthenticated"), 401
    g.claims = claims
    return None


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.get("/whoami")
def whoami():
    return jsonify(g.claims)


@app.get("/")
def home():
    c = g.claims
    groups = ", ".join(c.get("groups", []))
    return f"<!doctype html><title>Flask behind Gatehouse</title><p>Hello, {html.escape(c.get('preferred_username', ''))} ({html.escape(groups)}).</p>"


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
