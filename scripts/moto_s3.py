#!/usr/bin/env python3
"""A throwaway S3-compatible server for Meander's tests: moto, with signature checking on.

    INITIAL_NO_AUTH_ACTION_COUNT=4 python3 scripts/moto_s3.py --env-file FILE [--host 127.0.0.1] [--port 0]

Used by scripts/with-moto; not meant to be run by hand. It

1. serves moto's own WSGI application (what `moto_server` serves) on HOST:PORT (port 0: the kernel picks
   a free one, so there is no race between choosing a port and binding it);
2. spends moto's INITIAL_NO_AUTH_ACTION_COUNT unauthenticated calls on creating an IAM user, a policy allowing
   s3:*, its attachment and an access key; from then on moto checks every request's SigV4 signature;
3. creates the test bucket with that key, checks that a wrong secret is refused with SignatureDoesNotMatch
   (so a test run can never pass against a server that does not check signatures), and
4. writes the MEANDER_TEST_S3_* settings as shell `export` lines to FILE (mode 0600), then serves until
   SIGTERM/SIGINT.

Presigned URLs: moto (5.2) answers 500 to a query-string-signed (presigned) request once signature checking is
on, because it looks for an Authorization header. A small WSGI layer in front therefore handles requests that
carry X-Amz-Signature and no Authorization header as S3 does: it recomputes the signature with botocore (AWS's
own SigV4 implementation, independent of Meander's), refuses a wrong one (403 SignatureDoesNotMatch) or an
expired one (403 AccessDenied, "Request has expired"), and otherwise passes the request on to moto re-signed
with an Authorization header, applying the response-content-type / response-content-disposition overrides to
the answer. Every other request goes to moto untouched.
"""

import argparse
import datetime
import json
import os
import shlex
import signal
import sys
import threading
import time
import traceback
import urllib.parse

# The calls spent in bootstrap() before moto starts checking signatures. moto reads the variable on import.
BOOTSTRAP_CALLS = 4
os.environ.setdefault("INITIAL_NO_AUTH_ACTION_COUNT", str(BOOTSTRAP_CALLS))

try:
    import boto3
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
    import botocore.exceptions
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except ImportError as error:
    sys.stderr.write(f"moto_s3.py: {error}; install the S3 test server with: python3 -m pip install 'moto[server]'\n")
    sys.exit(2)

REGION = "us-east-1"
BUCKET = "meander-test"
USER = "meander-test"
# S3's limit for a presigned URL's lifetime (7 days).
MAX_EXPIRES = 604800

# access key id -> secret access key, filled in by bootstrap().
CREDENTIALS: dict[str, str] = {}


def s3_error(start_response, status: str, code: str, message: str):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def encode(value: str) -> str:
    """SigV4's URI encoding: everything but unreserved characters percent-encoded."""
    return urllib.parse.quote(value, safe="-_.~")


class PresignedURLs:
    """Checks query-string (presigned) SigV4 requests in front of moto; see the module's docstring."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        names = {name for name, _ in query}
        if "X-Amz-Signature" not in names or environ.get("HTTP_AUTHORIZATION"):
            return self.app(environ, start_response)
        try:
            return self.presigned(environ, start_response, query)
        except Exception:  # a bug here must show as a failing test, not a hang
            traceback.print_exc()
            return s3_error(start_response, "500 Internal Server Error", "InternalError", "moto_s3.py failed")

    def presigned(self, environ, start_response, query):
        params = dict(query)
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "HEAD"):
            return s3_error(start_response, "501 Not Implemented", "NotImplemented", "only presigned GET and HEAD")
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            return s3_error(start_response, "400 Bad Request", "AuthorizationQueryParametersError", "bad algorithm")
        credential = params.get("X-Amz-Credential", "").split("/")
        if len(credential) != 5 or credential[3] != "s3" or credential[4] != "aws4_request":
            return s3_error(start_response, "400 Bad Request", "AuthorizationQueryParametersError", "bad credential")
        access_key_id, _, region, _, _ = credential
        secret = CREDENTIALS.get(access_key_id)
        if secret is None:
            return s3_error(start_response, "403 Forbidden", "InvalidAccessKeyId", "unknown access key id")
        try:
            signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc
            )
            expires = int(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            return s3_error(start_response, "400 Bad Request", "AuthorizationQueryParametersError", "bad date")
        if not 1 <= expires <= MAX_EXPIRES:
            return s3_error(start_response, "400 Bad Request", "AuthorizationQueryParametersError", "bad expiry")

        host = environ.get("HTTP_HOST", "")
        path = urllib.parse.quote(environ.get("PATH_INFO", ""), safe="/-_.~")
        unsigned = [(name, value) for name, value in query if name != "X-Amz-Signature"]
        canonical_query = "&".join(f"{encode(n)}={encode(v)}" for n, v in unsigned)
        signed_headers = {
            name: environ.get("HTTP_" + name.upper().replace("-", "_"), "")
            for name in params.get("X-Amz-SignedHeaders", "").split(";")
            if name and name != "host"
        }
        request = botocore.awsrequest.AWSRequest(
            method=method, url=f"http://{host}{path}?{canonical_query}", headers=signed_headers
        )
        request.context["timestamp"] = params["X-Amz-Date"]
        auth = botocore.auth.S3SigV4QueryAuth(
            botocore.credentials.Credentials(access_key_id, secret), "s3", region, expires=expires
        )
        canonical_request = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical_request), request)
        if expected != params["X-Amz-Signature"]:
            return s3_error(
                start_response, "403 Forbidden", "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if datetime.datetime.now(datetime.timezone.utc) > signed_at + datetime.timedelta(seconds=expires):
            return s3_error(start_response, "403 Forbidden", "AccessDenied", "Request has expired")

        # Valid: hand it to moto as an ordinary header-signed request, without the query-string auth.
        overrides = {
            "Content-Type": params.get("response-content-type"),
            "Content-Disposition": params.get("response-content-disposition"),
        }
        forwarded = botocore.awsrequest.AWSRequest(method=method, url=f"http://{host}{path}")
        botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(access_key_id, secret), "s3", region).add_auth(
            forwarded
        )
        environ = dict(environ)
        environ["QUERY_STRING"] = ""
        for name, value in forwarded.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value

        def start_with_overrides(status, headers, exc_info=None):
            if status.startswith("200"):
                headers = [(n, v) for n, v in headers if n.title() not in overrides or overrides[n.title()] is None]
                headers += [(n, v) for n, v in overrides.items() if v is not None]
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_overrides)


def bootstrap(endpoint: str) -> dict[str, str]:
    """Spends the unauthenticated calls on an IAM user with an access key, then creates the bucket with it."""
    anonymous = dict(
        endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap"
    )
    iam = boto3.client("iam", **anonymous)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.create_user(UserName=USER)  # 1
    arn = iam.create_policy(PolicyName="meander-test-s3", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]  # 2
    iam.attach_user_policy(UserName=USER, PolicyArn=arn)  # 3
    key = iam.create_access_key(UserName=USER)["AccessKey"]  # 4
    CREDENTIALS[key["AccessKeyId"]] = key["SecretAccessKey"]

    def s3(secret: str):
        config = botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"})
        return boto3.client(
            "s3", endpoint_url=endpoint, region_name=REGION, config=config,
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=secret,
        )

    s3(key["SecretAccessKey"]).create_bucket(Bucket=BUCKET)
    try:
        s3("not-the-secret").list_objects_v2(Bucket=BUCKET)
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") != "SignatureDoesNotMatch":
            raise
    else:
        raise RuntimeError("moto accepted a wrong secret: signature checking is off (INITIAL_NO_AUTH_ACTION_COUNT?)")
    return {
        "MEANDER_TEST_S3_ENDPOINT": endpoint,
        "MEANDER_TEST_S3_BUCKET": BUCKET,
        "MEANDER_TEST_S3_REGION": REGION,
        "MEANDER_TEST_S3_ACCESS_KEY_ID": key["AccessKeyId"],
        "MEANDER_TEST_S3_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--env-file", required=True)
    args = parser.parse_args()
    if os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] != str(BOOTSTRAP_CALLS):
        sys.stderr.write(f"moto_s3.py: INITIAL_NO_AUTH_ACTION_COUNT must be {BOOTSTRAP_CALLS} (the bootstrap's calls)\n")
        return 2

    application = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, PresignedURLs(application), threaded=True)
    endpoint = f"http://{args.host}:{server.server_port}"

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def prepare():
        try:
            settings = bootstrap(endpoint)
            temporary = args.env_file + ".tmp"
            with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                for name, value in settings.items():
                    file.write(f"export {name}={shlex.quote(value)}\n")
            os.replace(temporary, args.env_file)
        except Exception:
            traceback.print_exc()
            sys.stderr.write("moto_s3.py: could not prepare the S3 test server\n")
            sys.stderr.flush()
            os._exit(3)

    threading.Thread(target=prepare, daemon=True).start()
    started = time.monotonic()
    server.serve_forever(poll_interval=0.2)
    sys.stderr.write(f"moto_s3.py: stopped after {time.monotonic() - started:.0f}s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
