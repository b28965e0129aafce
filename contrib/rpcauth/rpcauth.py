#!/usr/bin/env python3
"""Make an -rpcauth line for p2pd.conf.

Usage: rpcauth.py <user> [password]

Prints the line "rpcauth=<user>:<salt>$<hash>" to put in p2pd.conf (or pass as -rpcauth=...)
and the password, generated when not given. The node keeps only the salt and the hash, so the
password appears nowhere on the node's machine.

Algorithm (the same as src/rpc/auth.c checks): salt is 16 random bytes written as 32 lowercase
hex characters; hash is the lowercase hex HMAC-SHA256 with the salt, as ASCII text, for key and
the password, as UTF-8, for message.
"""

import argparse
import hmac
import json
import secrets
import sys

SALT_BYTES = 16
# 32 random bytes in URL-safe base64: 43 characters, 256 bits of entropy.
PASSWORD_BYTES = 32


def generate_salt():
    return secrets.token_hex(SALT_BYTES)


def generate_password():
    return secrets.token_urlsafe(PASSWORD_BYTES)


def password_to_hmac(salt, password):
    mac = hmac.new(salt.encode("ascii"), password.encode("utf-8"), "sha256")
    return mac.hexdigest()


def main(argv):
    parser = argparse.ArgumentParser(
        description="Create an -rpcauth line for p2pd (salted HMAC-SHA256 of a password).")
    parser.add_argument("username", help="the RPC user name")
    parser.add_argument("password", nargs="?",
                        help="leave out to generate a random password")
    parser.add_argument("-j", "--json", action="store_true",
                        help="print the result as JSON")
    args = parser.parse_args(argv)

    if not args.username or ":" in args.username:
        parser.error("the user name must be non-empty and must not contain ':'")
    password = args.password if args.password is not None else generate_password()
    salt = generate_salt()
    line = "{}:{}${}".format(args.username, salt, password_to_hmac(salt, password))

    if args.json:
        print(json.dumps({"username": args.username, "password": password,
                          "rpcauth": line}, indent=4))
    else:
        print("String to be appended to p2pd.conf:")
        print("rpcauth=" + line)
        print("Your password:\n" + password)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
