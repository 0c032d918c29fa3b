#!/usr/bin/env python3
"""lego's acme-dns provider, as a hook for lego's exec provider (EXEC_MODE=RAW).

Debian's lego is built without its acme-dns provider (goacmedns is not packaged), so the
integration test runs lego with this hook in its place. It does what that provider does, over the
same wire format and account file: the account of a domain comes from ACME_DNS_STORAGE_PATH (a
JSON object, domain -> {"FullDomain", "SubDomain", "Username", "Password"}, as goacmedns writes
it); a domain without one is registered (POST /register with no body), saved, and the run stops
with the CNAME to create; otherwise the value goes to POST /update with goacmedns's field names
("SubDomain", "Txt") and headers (X-Api-User, X-Api-Key). Cleanup does nothing, as acme-dns has no
delete.

    acmedns_hook.py present|cleanup -- DOMAIN TOKEN KEY_AUTHORIZATION
"""
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request


def post(path, body, headers):
    request = urllib.request.Request(
        os.environ["ACME_DNS_API_BASE"] + path,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "goacmedns", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def field(account, name):
    """A member of an account whatever the case of its key, as Go's decoder reads it."""
    for key, value in account.items():
        if key.lower() == name.lower():
            return value
    return ""


def main():
    command, domain, key_authorization = sys.argv[1], sys.argv[3], sys.argv[5]
    if command != "present":
        return 0
    storage = os.environ["ACME_DNS_STORAGE_PATH"]
    accounts = {}
    if os.path.exists(storage):
        with open(storage) as f:
            accounts = json.load(f)
    account = accounts.get(domain)
    if account is None:
        status, body = post("/register", b"", {})
        if status != 201:
            print(f"failed to register account : status code {status} response: {body}")
            return 1
        created = json.loads(body)
        accounts[domain] = {
            "FullDomain": created["fulldomain"],
            "SubDomain": created["subdomain"],
            "Username": created["username"],
            "Password": created["password"],
        }
        with open(os.open(storage, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(accounts, f)
        print(
            f"acme-dns: registered an account for {domain}; create this record, then run again:"
            f"\n_acme-challenge.{domain}. CNAME {created['fulldomain']}."
        )
        return 1
    digest = hashlib.sha256(key_authorization.encode()).digest()
    value = base64.urlsafe_b64encode(digest).decode().rstrip("=")  # RFC 8555 section 8.4
    update = json.dumps({"SubDomain": field(account, "SubDomain"), "Txt": value}).encode()
    status, body = post(
        "/update",
        update,
        {"X-Api-User": field(account, "Username"), "X-Api-Key": field(account, "Password")},
    )
    if status != 200:
        print(f"failed to update txt record : status code {status} response: {body}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
