#!/usr/bin/python3
"""A sync worker in Python: gets a connector's access token from the token API and uses it.

It signs `POST /internal/orgs/{orgId}/connectors/{connectorId}/access-token` with AWS Signature
Version 4 (service `execute-api`) using botocore's own signer and the standard credential chain
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE, an instance or task
role, ...), then calls the provider's userinfo endpoint with the token and prints who it belongs
to. The token itself is never printed. Standard library plus botocore only (Debian: python3-botocore).

  TOKEN_API_URL=http://127.0.0.1:3000 AWS_REGION=us-east-1 \\
  AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \\
  /usr/bin/python3 worker.py --org demo --connector demo --userinfo-url http://127.0.0.1:3001/me

Exit status: 0 on success, 1 when the token API or the provider refused (the error code is printed),
2 on a usage or configuration error.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

TIMEOUT_SECONDS = 30


def parse_args():
    parser = argparse.ArgumentParser(description="Get a connector's access token and use it.")
    parser.add_argument("--org", required=True, help="the connector's org id")
    parser.add_argument("--connector", required=True, help="the connector id")
    parser.add_argument(
        "--base-url",
        default=os.environ.get("TOKEN_API_URL"),
        help="the API's base URL (default: $TOKEN_API_URL), e.g. http://127.0.0.1:3000",
    )
    parser.add_argument(
        "--userinfo-url",
        default=os.environ.get("USERINFO_URL"),
        help="the provider's userinfo URL to call with the token (default: $USERINFO_URL)",
    )
    args = parser.parse_args()
    if not args.base_url:
        parser.error("set --base-url or TOKEN_API_URL")
    return args


def signed_token_request(base_url, org, connector):
    """The token API request, signed with the default credential chain for execute-api."""
    session = botocore.session.get_session()
    credentials = session.get_credentials()
    if credentials is None:
        raise SystemExit("worker: no AWS credentials found (environment, profile or role)")
    region = os.environ.get("AWS_REGION") or session.get_config_variable("region")
    if not region:
        raise SystemExit("worker: set AWS_REGION (or a region in the AWS profile)")
    path = "/internal/orgs/{}/connectors/{}/access-token".format(
        urllib.parse.quote(org, safe=""), urllib.parse.quote(connector, safe="")
    )
    request = AWSRequest(method="POST", url=base_url.rstrip("/") + path, data=b"")
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return request.prepare()


def fetch_json(request):
    """(status, parsed JSON body) of a urllib request; HTTP errors are answers, not exceptions."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, {}


def get_access_token(base_url, org, connector):
    prepared = signed_token_request(base_url, org, connector)
    request = urllib.request.Request(
        prepared.url, data=prepared.body or b"", headers=dict(prepared.headers), method="POST"
    )
    status, body = fetch_json(request)
    if status != 200 or not body.get("success"):
        error = body.get("error") or {}
        code = error.get("code", "unexpected_answer")
        message = error.get("message", "")
        print("token API refused ({} {}): {}".format(status, code, message), file=sys.stderr)
        raise SystemExit(1)
    return body


def whoami(userinfo_url, token):
    authorization = "{} {}".format(token["tokenType"].capitalize(), token["accessToken"])
    status, body = fetch_json(urllib.request.Request(userinfo_url, headers={"Authorization": authorization}))
    if status != 200:
        print("provider refused the token ({}): {}".format(status, body.get("error", "")), file=sys.stderr)
        raise SystemExit(1)
    return body


def main():
    args = parse_args()
    token = get_access_token(args.base_url, args.org, args.connector)
    print(
        "connector {} (org {}): {} token, expires {}, scopes {}".format(
            args.connector,
            args.org,
            token["tokenType"],
            token.get("expiresAt") or "never",
            " ".join(token.get("scopes") or []) or "-",
        )
    )
    if args.userinfo_url:
        user = whoami(args.userinfo_url, token)
        print("provider says: signed in as {} ({})".format(user.get("sub"), user.get("email", "no email")))


if __name__ == "__main__":
    main()
