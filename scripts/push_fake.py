#!/usr/bin/env python3
"""Fake push providers for Meander's tests: APNs, FCM HTTP v1 and Google's OAuth token endpoint, on loopback.

    python3 scripts/push_fake.py --dir DIR --env-file FILE [--host 127.0.0.1]

Used by scripts/with-push; not meant to be run by hand. It makes, for this run only (with `cryptography`):

  DIR/cert.pem           a self-signed certificate for 127.0.0.1 and localhost, the servers' TLS certificate
  DIR/AuthKey_KEYID.p8   an APNs token-signing key (P-256, PKCS#8 PEM), with a random key id and team id
  DIR/service-account.json  an FCM service account (RSA 2048) whose token_uri points at this fake

and serves two ports the kernel picks, both TLS (hypercorn, ALPN h2 and http/1.1):

  apns  POST /3/device/{token}, over HTTP/2 only, as Apple (HTTP/1.1 gets 400 HTTP2Required). It checks the provider token as APNs does: a JWT
        (`authorization: bearer …`) with alg ES256, kid = the key id, iss = the team id, an integer iat, signed by the
        key (MissingProviderToken, InvalidProviderToken; ExpiredProviderToken once it is older than an hour), then
        apns-topic (MissingTopic, TopicDisallowed), apns-push-type alert (InvalidPushType), apns-priority 10 or 5
        (BadPriority), apns-expiration (BadExpirationDate), apns-collapse-id at most 64 bytes (BadCollapseId), a body
        of at most 4096 bytes (PayloadTooLarge) shaped {"aps":{"alert":{"title","body"},"sound"},…strings}
        (BadPayloadShape, this fake's own reason). Answers 200 with an apns-id.
  fcm   POST /token: the OAuth 2.0 JWT-bearer grant (RFC 7523) as Google answers it. The assertion must be RS256
        with kid = private_key_id, signed by the service account's key, iss an account of the project (any
        NAME@PROJECT.iam.gserviceaccount.com, so that a test can count its own exchanges), scope holding
        https://www.googleapis.com/auth/firebase.messaging, aud = the token_uri, integer iat and exp, exp - iat <= 3600,
        not expired, iat not ahead by more than 5 minutes (invalid_grant, invalid_scope). Gives an access token
        valid for 3599 s.
        POST /v1/projects/{project_id}/messages:send: `authorization: Bearer <a token from /token, unexpired>`
        (401 UNAUTHENTICATED), project_id the account's (403 PERMISSION_DENIED), and a body with no field FCM does not
        know: {"message":{"token","notification":{"title","body"},"data":{str: str},"android":{"priority":
        "high"|"normal","collapse_key","ttl":"Ns"}}} (400 INVALID_ARGUMENT). Answers 200 {"name": …}.

Device tokens choose an answer, for both providers:

  gone-…     APNs 410 Unregistered; FCM 404 NOT_FOUND with errorCode UNREGISTERED
  bad-…      APNs 400 BadDeviceToken; FCM 400 INVALID_ARGUMENT with errorCode INVALID_ARGUMENT
  busy-…     the first push for the token: 429 (TooManyRequests; RESOURCE_EXHAUSTED, QUOTA_EXCEEDED) with
             Retry-After: 7; the next one is delivered
  fail5xx-…  503 (ServiceUnavailable; UNAVAILABLE), no Retry-After
  stale-…    APNs: a provider token older than 20 minutes (not an hour) is ExpiredProviderToken
  auth401-…  FCM: the first push for the token answers 401 UNAUTHENTICATED and revokes the access token it carried

Every answer of the fake, accepted or not, is a JSON line in DIR/push.jsonl, written before the answer is sent:
service (apns, fcm, oauth), status, reason, the device token, the HTTP version, the headers and body that matter,
and the credential used (the JWT's header and claims and a SHA-256 prefix of it; the access token's number). Then it
writes the MEANDER_TEST_* settings as shell `export` lines to FILE (mode 0600) and serves until SIGTERM/SIGINT.
"""

import argparse
import asyncio
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shlex
import signal
import socket
import string
import sys
import time
import uuid
from urllib.parse import parse_qs

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.x509.oid import NameOID
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config as HypercornConfig
except ImportError as error:
    sys.stderr.write(f"push_fake.py: {error}; install with: python3 -m pip install hypercorn cryptography\n")
    sys.exit(2)

TOPIC = "no.meander.app.test"
PROJECT = "meander-push-test"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
APNS_TOKEN_MAX_AGE = 3600
APNS_STALE_TOKEN_MAX_AGE = 1200
FUTURE_SKEW = 300
ACCESS_TOKEN_LIFETIME = 3599
RETRY_AFTER = "7"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def random_id(length: int = 10) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def make_certificate(directory: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for two days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Meander test push providers")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as file:
        file.write(certificate.public_bytes(serialization.Encoding.PEM))
    write_secret(key_path, pkcs8(key))
    return cert_path, key_path


def pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def write_secret(path: str, data: bytes) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(data)


class JWTError(Exception):
    pass


def parse_jwt(token: str) -> tuple[dict, dict, bytes, bytes]:
    """Header, claims, the signed input and the signature of a compact JWS; JWTError when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("not three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as error:
        raise JWTError(f"undecodable: {error}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JWTError("header or claims not an object")
    return header, claims, (parts[0] + "." + parts[1]).encode(), signature


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def jwt_summary(token: str, header: dict, claims: dict) -> dict:
    return {"header": header, "claims": claims, "sha256": hashlib.sha256(token.encode()).hexdigest()[:16]}


class Fake:
    def __init__(self, directory: str, host: str):
        self.directory = directory
        self.host = host
        self.log_path = os.path.join(directory, "push.jsonl")
        self.apns_key = ec.generate_private_key(ec.SECP256R1())
        self.apns_key_id = random_id()
        self.apns_team_id = random_id()
        self.fcm_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fcm_key_id = secrets.token_hex(20)
        self.client_email = f"meander-push@{PROJECT}.iam.gserviceaccount.com"
        self.email_pattern = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}@" + re.escape(PROJECT) + r"\.iam\.gserviceaccount\.com$")
        self.apns_port = 0
        self.fcm_port = 0
        # device tokens that had their one 429 / 401
        self.busy_seen: set[tuple[str, str]] = set()
        self.auth401_seen: set[str] = set()
        # access token -> (number, expiry, revoked)
        self.access_tokens: dict[str, dict] = {}
        self.issued = 0

    @property
    def token_uri(self) -> str:
        return f"https://{self.host}:{self.fcm_port}/token"

    def record(self, entry: dict) -> None:
        entry["time"] = time.time()
        with open(self.log_path, "a") as file:
            file.write(json.dumps(entry, ensure_ascii=False) + "\n")

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 1_000_000:
                break
            if not message.get("more_body"):
                break
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        port = scope["server"][1] if scope.get("server") else 0
        path = scope["path"]
        if port == self.apns_port:
            status, answer_headers, answer = self.apns(scope, path, headers, body)
        elif port == self.fcm_port and path == "/token":
            status, answer_headers, answer = self.oauth(scope, headers, body)
        elif port == self.fcm_port and path.startswith("/v1/projects/"):
            status, answer_headers, answer = self.fcm(scope, path, headers, body)
        else:
            status, answer_headers, answer = 404, {}, {"error": "no such endpoint on this port"}
        payload = json.dumps(answer).encode() if answer is not None else b""
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        raw_headers += [(k.encode(), v.encode()) for k, v in answer_headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    # ------------------------------------------------------------------ APNs

    def apns(self, scope, path: str, headers: dict, body: bytes):
        device = path[len("/3/device/"):] if path.startswith("/3/device/") else ""
        entry = {"service": "apns", "device": device, "httpVersion": scope.get("http_version")}
        entry["headers"] = {k: v for k, v in headers.items() if k.startswith("apns-") or k == "content-type"}

        def answer(status: int, reason: str | None, extra: dict | None = None):
            entry["status"] = status
            entry["reason"] = reason
            response_headers = extra or {}
            if status == 200:
                apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
                entry["apnsID"] = apns_id
                response_headers["apns-id"] = apns_id
                response_headers["apns-unique-id"] = str(uuid.uuid4())
                self.record(entry)
                return 200, response_headers, None
            document = {"reason": reason}
            if status == 410:
                document["timestamp"] = int(time.time() * 1000)
            self.record(entry)
            return status, {"apns-id": str(uuid.uuid4()).upper(), **response_headers}, document

        if scope.get("http_version") != "2":
            return answer(400, "HTTP2Required")
        if scope.get("method") != "POST":
            return answer(405, "MethodNotAllowed")
        if not device:
            return answer(400, "MissingDeviceToken")

        # the provider token
        authorization = headers.get("authorization")
        if not authorization:
            return answer(403, "MissingProviderToken")
        if not authorization.lower().startswith("bearer "):
            return answer(403, "InvalidProviderToken")
        token = authorization[len("bearer "):].strip()
        try:
            header, claims, signed, signature = parse_jwt(token)
        except JWTError:
            return answer(403, "InvalidProviderToken")
        entry["jwt"] = jwt_summary(token, header, claims)
        if header.get("alg") != "ES256" or header.get("kid") != self.apns_key_id:
            return answer(403, "InvalidProviderToken")
        if claims.get("iss") != self.apns_team_id or not is_int(claims.get("iat")):
            return answer(403, "InvalidProviderToken")
        if len(signature) != 64:
            return answer(403, "InvalidProviderToken")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            self.apns_key.public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return answer(403, "InvalidProviderToken")
        entry["jwt"]["verified"] = True
        now = time.time()
        if claims["iat"] > now + FUTURE_SKEW:
            return answer(403, "InvalidProviderToken")
        max_age = APNS_STALE_TOKEN_MAX_AGE if device.startswith("stale-") else APNS_TOKEN_MAX_AGE
        if now - claims["iat"] > max_age:
            return answer(403, "ExpiredProviderToken")

        # the headers
        topic = headers.get("apns-topic")
        if not topic:
            return answer(400, "MissingTopic")
        if topic != TOPIC:
            return answer(400, "TopicDisallowed")
        if headers.get("apns-push-type") != "alert":
            return answer(400, "InvalidPushType")
        if headers.get("apns-priority", "10") not in ("10", "5"):
            return answer(400, "BadPriority")
        if "apns-expiration" in headers and not re.fullmatch(r"[0-9]{1,12}", headers["apns-expiration"]):
            return answer(400, "BadExpirationDate")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return answer(400, "BadCollapseId")

        # the payload
        if len(body) > 4096:
            return answer(413, "PayloadTooLarge")
        if not body:
            return answer(400, "PayloadEmpty")
        try:
            payload = json.loads(body)
        except ValueError:
            return answer(400, "BadPayloadShape")
        entry["payload"] = payload
        aps = payload.get("aps") if isinstance(payload, dict) else None
        alert = aps.get("alert") if isinstance(aps, dict) else None
        if (
            not isinstance(alert, dict)
            or set(alert) != {"title", "body"}
            or not all(isinstance(alert[k], str) for k in ("title", "body"))
            or set(aps) - {"alert", "sound"}
            or aps.get("sound", "default") != "default"
            or not all(isinstance(v, str) for k, v in payload.items() if k != "aps")
        ):
            return answer(400, "BadPayloadShape")

        # what the device token asks for
        if device.startswith("gone-"):
            return answer(410, "Unregistered")
        if device.startswith("bad-"):
            return answer(400, "BadDeviceToken")
        if device.startswith("fail5xx-"):
            return answer(503, "ServiceUnavailable")
        if device.startswith("busy-") and ("apns", device) not in self.busy_seen:
            self.busy_seen.add(("apns", device))
            return answer(429, "TooManyRequests", {"retry-after": RETRY_AFTER})
        return answer(200, None)

    # ------------------------------------------------------------------ OAuth

    def oauth(self, scope, headers: dict, body: bytes):
        entry = {"service": "oauth", "httpVersion": scope.get("http_version")}

        def answer(status: int, error: str | None, description: str = "", document: dict | None = None):
            entry["status"] = status
            entry["reason"] = error
            if description:
                entry["description"] = description
            self.record(entry)
            return status, {}, document if document is not None else {"error": error, "error_description": description}

        if scope.get("method") != "POST":
            return answer(405, "invalid_request", "POST only")
        if headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return answer(400, "invalid_request", "not a form")
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, strict_parsing=False)
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return answer(400, "unsupported_grant_type", "Invalid grant_type: " + ",".join(form.get("grant_type", [])))
        assertions = form.get("assertion", [])
        if len(assertions) != 1:
            return answer(400, "invalid_request", "Missing required parameter: assertion")
        assertion = assertions[0]
        try:
            header, claims, signed, signature = parse_jwt(assertion)
        except JWTError as error:
            return answer(400, "invalid_grant", f"Invalid JWT: {error}")
        entry["jwt"] = jwt_summary(assertion, header, claims)
        if header.get("alg") != "RS256" or header.get("kid") != self.fcm_key_id:
            return answer(400, "invalid_grant", "Invalid JWT header (alg must be RS256, kid the private_key_id)")
        try:
            self.fcm_key.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return answer(400, "invalid_grant", "Invalid JWT Signature.")
        entry["jwt"]["verified"] = True
        iss, iat, exp = claims.get("iss"), claims.get("iat"), claims.get("exp")
        if not isinstance(iss, str) or not self.email_pattern.match(iss):
            return answer(400, "invalid_grant", "Invalid issuer")
        if claims.get("aud") != self.token_uri:
            return answer(400, "invalid_grant", "Invalid JWT: aud is not the token endpoint")
        if not is_int(iat) or not is_int(exp) or exp - iat > 3600 or exp <= iat:
            return answer(400, "invalid_grant", "Invalid JWT: iat and exp must be integers an hour apart at most")
        now = time.time()
        if exp <= now:
            return answer(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
        if iat > now + FUTURE_SKEW:
            return answer(400, "invalid_grant", "Invalid JWT: iat is in the future")
        if SCOPE not in str(claims.get("scope", "")).split(" "):
            return answer(400, "invalid_scope", "the firebase.messaging scope is missing")
        self.issued += 1
        access_token = f"ya29.fake.{self.issued}.{secrets.token_urlsafe(24)}"
        self.access_tokens[access_token] = {"number": self.issued, "expires": now + ACCESS_TOKEN_LIFETIME, "revoked": False}
        entry["tokenNumber"] = self.issued
        entry["iss"] = iss
        return answer(
            200, None, document={"access_token": access_token, "expires_in": ACCESS_TOKEN_LIFETIME, "token_type": "Bearer"}
        )

    # ------------------------------------------------------------------ FCM

    def fcm(self, scope, path: str, headers: dict, body: bytes):
        entry = {"service": "fcm", "httpVersion": scope.get("http_version"), "device": None}

        def answer(status: int, status_name: str | None, error_code: str | None = None, extra: dict | None = None):
            entry["status"] = status
            entry["reason"] = error_code or status_name
            if status == 200:
                name = f"projects/{PROJECT}/messages/0:{int(time.time() * 1000)}%{secrets.token_hex(8)}"
                entry["name"] = name
                self.record(entry)
                return 200, {}, {"name": name}
            error = {"code": status, "message": f"fake FCM: {status_name}", "status": status_name}
            if error_code:
                error["details"] = [
                    {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}
                ]
            self.record(entry)
            return status, extra or {}, {"error": error}

        match = re.fullmatch(r"/v1/projects/([^/]+)/messages:send", path)
        if not match or scope.get("method") != "POST":
            return answer(404, "NOT_FOUND")
        authorization = headers.get("authorization", "")
        access = None
        if authorization.startswith("Bearer "):
            access = self.access_tokens.get(authorization[len("Bearer "):])
        if access is not None:
            entry["tokenNumber"] = access["number"]
        if access is None or access["revoked"] or access["expires"] <= time.time():
            return answer(401, "UNAUTHENTICATED")
        if match.group(1) != PROJECT:
            return answer(403, "PERMISSION_DENIED")
        try:
            document = json.loads(body)
        except ValueError:
            return answer(400, "INVALID_ARGUMENT")
        entry["body"] = document
        message = document.get("message") if isinstance(document, dict) else None
        if not isinstance(message, dict) or set(document) - {"message", "validate_only"}:
            return answer(400, "INVALID_ARGUMENT")
        known = {"token", "notification", "data", "android", "apns", "webpush", "fcm_options", "name"}
        if set(message) - known or not isinstance(message.get("token"), str) or not message["token"]:
            return answer(400, "INVALID_ARGUMENT")
        device = message["token"]
        entry["device"] = device
        notification = message.get("notification", {})
        if not isinstance(notification, dict) or set(notification) - {"title", "body", "image"}:
            return answer(400, "INVALID_ARGUMENT")
        if not all(isinstance(v, str) for v in notification.values()):
            return answer(400, "INVALID_ARGUMENT")
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            return answer(400, "INVALID_ARGUMENT")
        reserved = {"from", "message_type", "notification"}
        if any(k in reserved or k.startswith(("google.", "gcm.")) for k in data):
            return answer(400, "INVALID_ARGUMENT")
        android = message.get("android", {})
        allowed = {"collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification", "direct_boot_ok"}
        if not isinstance(android, dict) or set(android) - allowed:
            return answer(400, "INVALID_ARGUMENT")
        if "priority" in android and android["priority"] not in ("high", "normal", "HIGH", "NORMAL"):
            return answer(400, "INVALID_ARGUMENT")
        if "ttl" in android and not re.fullmatch(r"[0-9]{1,10}(\.[0-9]{1,9})?s", str(android["ttl"])):
            return answer(400, "INVALID_ARGUMENT")
        if len(body) > 4096:
            return answer(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")

        if device.startswith("gone-"):
            return answer(404, "NOT_FOUND", "UNREGISTERED")
        if device.startswith("bad-"):
            return answer(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
        if device.startswith("fail5xx-"):
            return answer(503, "UNAVAILABLE", "UNAVAILABLE")
        if device.startswith("busy-") and ("fcm", device) not in self.busy_seen:
            self.busy_seen.add(("fcm", device))
            return answer(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", {"retry-after": RETRY_AFTER})
        if device.startswith("auth401-") and device not in self.auth401_seen:
            self.auth401_seen.add(device)
            access["revoked"] = True
            return answer(401, "UNAUTHENTICATED")
        return answer(200, None)

    # ------------------------------------------------------------------ files

    def write_credentials(self) -> dict:
        key_path = os.path.join(self.directory, f"AuthKey_{self.apns_key_id}.p8")
        write_secret(key_path, pkcs8(self.apns_key))
        account = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": self.fcm_key_id,
            "private_key": pkcs8(self.fcm_key).decode(),
            "client_email": self.client_email,
            "client_id": str(secrets.randbelow(10**20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }
        account_path = os.path.join(self.directory, "service-account.json")
        write_secret(account_path, json.dumps(account, indent=2).encode())
        return {"key": key_path, "account": account_path}


def listening_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


async def serve(args) -> None:
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    cert_path, key_path = make_certificate(directory)
    fake = Fake(directory, args.host)
    apns_socket = listening_socket(args.host)
    fcm_socket = listening_socket(args.host)
    fake.apns_port = apns_socket.getsockname()[1]
    fake.fcm_port = fcm_socket.getsockname()[1]
    files = fake.write_credentials()
    open(fake.log_path, "a").close()

    config = HypercornConfig()
    config.bind = [f"fd://{apns_socket.fileno()}", f"fd://{fcm_socket.fileno()}"]
    config.certfile = cert_path
    config.keyfile = key_path
    config.alpn_protocols = ["h2", "http/1.1"]
    config.accesslog = None
    config.errorlog = "-"
    config.graceful_timeout = 1

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = asyncio.ensure_future(hypercorn_serve(fake, config, shutdown_trigger=stop.wait))

    # Ready when both ports complete a TLS handshake.
    import ssl

    client = ssl.create_default_context(cafile=cert_path)
    for port in (fake.apns_port, fake.fcm_port):
        for _ in range(200):
            if server.done():
                server.result()
                raise SystemExit("push_fake.py: the server stopped while starting")
            try:
                _, writer = await asyncio.open_connection(args.host, port, ssl=client)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)

    settings = {
        "MEANDER_TEST_APNS_URL": f"https://{args.host}:{fake.apns_port}",
        "MEANDER_TEST_APNS_KEY_FILE": files["key"],
        "MEANDER_TEST_APNS_KEY_ID": fake.apns_key_id,
        "MEANDER_TEST_APNS_TEAM_ID": fake.apns_team_id,
        "MEANDER_TEST_APNS_TOPIC": TOPIC,
        "MEANDER_TEST_FCM_URL": f"https://{args.host}:{fake.fcm_port}",
        "MEANDER_TEST_FCM_SERVICE_ACCOUNT_FILE": files["account"],
        "MEANDER_TEST_PUSH_CA": cert_path,
        "MEANDER_TEST_PUSH_LOG": fake.log_path,
    }
    temporary = args.env_file + ".tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        for key, value in settings.items():
            file.write(f"export {key}={shlex.quote(value)}\n")
    os.rename(temporary, args.env_file)
    print(f"push_fake.py: APNs on {args.host}:{fake.apns_port}, FCM and OAuth on {args.host}:{fake.fcm_port}", flush=True)
    await server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--env-file", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
