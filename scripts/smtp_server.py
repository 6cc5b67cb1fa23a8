#!/usr/bin/env python3
"""Throwaway SMTP servers (aiosmtpd) for Meander's tests, on loopback.

    python3 scripts/smtp_server.py --dir DIR --env-file FILE [--host 127.0.0.1]

Used by scripts/with-smtp; not meant to be run by hand. It makes a self-signed certificate for 127.0.0.1 and
localhost (DIR/cert.pem, with the `cryptography` package), then listens on four ports the kernel picks:

  good   STARTTLS required before anything else, AUTH PLAIN and LOGIN after it, one user (meander / PASSWORD).
  login  the same, offering AUTH LOGIN only.
  flaky  the same as good, except that the first DATA for each recipient is cut off: the server reads a few lines of
         the message and closes the connection without a reply. The next try for that recipient is delivered.
  plain  no TLS at all, and AUTH offered in clear text; an AUTH attempt is written to DIR/cleartext-auth.log.

Every message accepted is written to DIR/mail as NAME.eml (the bytes received, dot-stuffing undone) and NAME.json
(envelope, Message-ID, the decoded Subject, From and To, and the text and HTML parts, parsed with Python's email
package), the .json last, so a reader that sees it sees both. Then it writes the MEANDER_TEST_SMTP_* settings as
shell `export` lines to FILE (mode 0600) and serves until SIGTERM/SIGINT.
"""

import argparse
import asyncio
import datetime
import email
import email.policy
import json
import os
import secrets
import shlex
import signal
import ssl
import sys
import uuid

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError as error:
    sys.stderr.write(f"smtp_server.py: {error}; install with: python3 -m pip install aiosmtpd cryptography\n")
    sys.exit(2)

USER = "meander"
# Lines of a cut-off message that the flaky server reads before it closes the connection.
FLAKY_LINES = 8


def make_certificate(directory: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for two days."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Meander test SMTP")])
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
    with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


class Authenticator:
    def __init__(self, password: str, log_path: str | None = None):
        self.password = password.encode()
        self.log_path = log_path

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if self.log_path is not None:
            with open(self.log_path, "a") as file:
                file.write(f"AUTH {mechanism} attempted without TLS\n")
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER.encode()
            and secrets.compare_digest(auth_data.password, self.password)
        )
        # handled=False: aiosmtpd answers a failure itself (535), as a real server does.
        return AuthResult(success=ok, handled=False)


class MailDir:
    """Writes each accepted message to the folder the tests read."""

    def __init__(self, directory: str):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        raw: bytes = envelope.original_content
        name = f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {"text/plain": None, "text/html": None}
        for part in parsed.walk():
            kind = part.get_content_type()
            if kind in parts and parts[kind] is None and not part.is_multipart():
                parts[kind] = part.get_content()
        summary = {
            "mailFrom": envelope.mail_from,
            "recipients": envelope.rcpt_tos,
            "messageID": str(parsed["Message-ID"] or ""),
            "subject": str(parsed["Subject"] or ""),
            "from": str(parsed["From"] or ""),
            "to": str(parsed["To"] or ""),
            "text": parts["text/plain"],
            "html": parts["text/html"],
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "peer": "%s:%s" % tuple(session.peer[:2]) if session.peer else None,
        }
        with open(os.path.join(self.directory, name + ".eml"), "wb") as file:
            file.write(raw)
        temporary = os.path.join(self.directory, "." + name + ".json")
        with open(temporary, "w") as file:
            json.dump(summary, file, ensure_ascii=False)
        os.rename(temporary, os.path.join(self.directory, name + ".json"))
        return "250 OK queued as " + name


class FlakySMTP(SMTP):
    """Cuts off the first DATA for each recipient: reads a few lines of the message, then closes the connection."""

    cut_off: set[str] = set()

    async def smtp_DATA(self, arg):
        recipients = tuple(self.envelope.rcpt_tos) if self.envelope is not None else ()
        key = ",".join(recipients)
        if not recipients or key in FlakySMTP.cut_off or not self.session.authenticated:
            return await super().smtp_DATA(arg)
        FlakySMTP.cut_off.add(key)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        for _ in range(FLAKY_LINES):
            await self._reader.readuntil(b"\r\n")
        self.transport.abort()
        # connection_lost cancels this task; until then, read nothing more of what was sent.
        await asyncio.sleep(3600)


async def serve(args) -> None:
    directory = os.path.abspath(args.dir)
    maildir = os.path.join(directory, "mail")
    os.makedirs(maildir, exist_ok=True)
    cert_path, key_path = make_certificate(directory)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_path, key_path)
    password = secrets.token_urlsafe(18)
    handler = MailDir(maildir)
    plain_auth_log = os.path.join(directory, "cleartext-auth.log")

    def factory(kind: str):
        def make():
            common = dict(hostname="meander-test-smtp", authenticator=Authenticator(password))
            if kind == "plain":
                return SMTP(
                    handler,
                    hostname="meander-test-smtp",
                    authenticator=Authenticator(password, plain_auth_log),
                    auth_require_tls=False,
                )
            if kind == "login":
                return SMTP(
                    handler, tls_context=tls, require_starttls=True, auth_exclude_mechanism=["PLAIN"], **common
                )
            server_class = FlakySMTP if kind == "flaky" else SMTP
            return server_class(handler, tls_context=tls, require_starttls=True, **common)

        return make

    loop = asyncio.get_running_loop()
    ports = {}
    servers = []
    for kind in ("good", "login", "flaky", "plain"):
        server = await loop.create_server(factory(kind), host=args.host, port=0)
        servers.append(server)
        ports[kind] = server.sockets[0].getsockname()[1]

    def url(kind: str, query: str) -> str:
        return f"smtp://{USER}:{password}@{args.host}:{ports[kind]}?{query}"

    settings = {
        "MEANDER_TEST_SMTP_URL": url("good", "starttls=required&timeout=20"),
        "MEANDER_TEST_SMTP_LOGIN_URL": url("login", "starttls=required&timeout=20"),
        "MEANDER_TEST_SMTP_FLAKY_URL": url("flaky", "starttls=required&timeout=20"),
        "MEANDER_TEST_SMTP_PLAIN_URL": url("plain", "starttls=required&timeout=20"),
        "MEANDER_TEST_SMTP_PASSWORD": password,
        "MEANDER_TEST_SMTP_CA": cert_path,
        "MEANDER_TEST_SMTP_MAILDIR": maildir,
        "MEANDER_TEST_SMTP_CLEARTEXT_AUTH_LOG": plain_auth_log,
    }
    temporary = args.env_file + ".tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        for key, value in settings.items():
            file.write(f"export {key}={shlex.quote(value)}\n")
    os.rename(temporary, args.env_file)
    print(f"smtp_server.py: listening on {args.host}, ports {ports}", flush=True)

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--env-file", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
