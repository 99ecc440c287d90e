"""The push service's side of a Web Push message, by libraries nobody at SplitID wrote:
http_ece (RFC 8188/8291 decryption) and py_vapid (RFC 8292 token verification), on
cryptography's P-256.

    push_check.py keys        -> {"privateKey", "p256dh", "auth"}: a browser's subscription keys
    push_check.py open < JSON -> {"message", "claims", "k", "tamperedVerifies"}
       JSON: {"privateKey", "auth", "body" (base64), "authorization"}
"""
import base64
import json
import os
import sys

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keys():
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return {"privateKey": b64url(private), "p256dh": b64url(public), "auth": b64url(os.urandom(16))}


def open_message(request):
    private = int.from_bytes(b64url_decode(request["privateKey"]), "big")
    key = ec.derive_private_key(private, ec.SECP256R1())
    message = http_ece.decrypt(
        base64.b64decode(request["body"]),
        private_key=key,
        auth_secret=b64url_decode(request["auth"]),
        version="aes128gcm",
    )
    authorization = request["authorization"]
    if not Vapid02.verify(authorization):
        raise SystemExit("the VAPID signature does not verify")
    params = dict(part.split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
    header, claims, signature = params["t"].split(".")
    # The same token with other claims must not verify: the check above is a real one.
    forged = b64url(json.dumps({**json.loads(b64url_decode(claims)), "aud": "https://elsewhere"}).encode())
    tampered = "vapid t={}.{}.{},k={}".format(header, forged, signature, params["k"])
    return {
        "message": json.loads(message),
        "claims": json.loads(b64url_decode(claims)),
        "k": params["k"],
        "tamperedVerifies": bool(Vapid02.verify(tampered)),
    }


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        print(json.dumps(keys()))
    else:
        print(json.dumps(open_message(json.load(sys.stdin))))
