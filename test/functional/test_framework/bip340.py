"""BIP340 Schnorr signatures over secp256k1, in pure Python.

Written from the specification in BIP340 (not optimised, not constant time:
for tests only). Keys and signatures are bytes; integers are used inside.

Public interface:
    tagged_hash(tag, msg) -> 32 bytes
    pubkey_gen(seckey) -> 32-byte x-only public key
    sign(seckey, msg, aux_rand=None) -> 64-byte signature
    verify(pubkey, msg, sig) -> bool
Messages may have any length (BIP340 allows variable-length messages).
"""

import hashlib
import os

# Curve parameters (secp256k1: y^2 = x^3 + 7 over F_p).
P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)

# Points are affine (x, y) tuples; None is the point at infinity.


def tagged_hash(tag, msg):
    """Return SHA256(SHA256(tag) || SHA256(tag) || msg)."""
    tag_hash = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_hash + tag_hash + msg).digest()


def _point_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2 and y1 != y2:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 * pow(2 * y1, -1, P)) % P
    else:
        lam = ((y2 - y1) * pow(x2 - x1, -1, P)) % P
    x3 = (lam * lam - x1 - x2) % P
    return (x3, (lam * (x1 - x3) - y1) % P)


def _point_mul(point, scalar):
    result = None
    addend = point
    while scalar:
        if scalar & 1:
            result = _point_add(result, addend)
        addend = _point_add(addend, addend)
        scalar >>= 1
    return result


def _bytes_from_int(x):
    return x.to_bytes(32, "big")


def _int_from_bytes(b):
    return int.from_bytes(b, "big")


def _lift_x(x):
    """Return the point with x coordinate x and even y, or None."""
    if x >= P:
        return None
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    if pow(y, 2, P) != y_sq:
        return None
    return (x, y if y % 2 == 0 else P - y)


def _has_even_y(point):
    return point[1] % 2 == 0


def pubkey_gen(seckey):
    """Return the 32-byte x-only public key of a 32-byte secret key."""
    d0 = _int_from_bytes(seckey)
    if not 1 <= d0 <= N - 1:
        raise ValueError("The secret key must be an integer in the range 1..n-1.")
    return _bytes_from_int(_point_mul(G, d0)[0])


def sign(seckey, msg, aux_rand=None):
    """Return a 64-byte BIP340 signature of msg (any length) by seckey.

    aux_rand: 32 bytes of auxiliary randomness; fresh random bytes if None.
    """
    if aux_rand is None:
        aux_rand = os.urandom(32)
    if len(aux_rand) != 32:
        raise ValueError("aux_rand must be 32 bytes")
    d0 = _int_from_bytes(seckey)
    if not 1 <= d0 <= N - 1:
        raise ValueError("The secret key must be an integer in the range 1..n-1.")
    pub = _point_mul(G, d0)
    d = d0 if _has_even_y(pub) else N - d0
    t = _bytes_from_int(d ^ _int_from_bytes(tagged_hash("BIP0340/aux", aux_rand)))
    k0 = _int_from_bytes(tagged_hash("BIP0340/nonce", t + _bytes_from_int(pub[0]) + msg)) % N
    if k0 == 0:
        raise RuntimeError("Failure. This happens only with negligible probability.")
    r_point = _point_mul(G, k0)
    k = k0 if _has_even_y(r_point) else N - k0
    r = _bytes_from_int(r_point[0])
    e = _int_from_bytes(tagged_hash("BIP0340/challenge", r + _bytes_from_int(pub[0]) + msg)) % N
    sig = r + _bytes_from_int((k + e * d) % N)
    if not verify(_bytes_from_int(pub[0]), msg, sig):
        raise RuntimeError("The created signature does not pass verification.")
    return sig


def verify(pubkey, msg, sig):
    """Return True iff sig is a valid BIP340 signature of msg by x-only pubkey."""
    if len(pubkey) != 32 or len(sig) != 64:
        return False
    pub = _lift_x(_int_from_bytes(pubkey))
    if pub is None:
        return False
    r = _int_from_bytes(sig[0:32])
    s = _int_from_bytes(sig[32:64])
    if r >= P or s >= N:
        return False
    e = _int_from_bytes(tagged_hash("BIP0340/challenge", sig[0:32] + pubkey + msg)) % N
    r_point = _point_add(_point_mul(G, s), _point_mul(pub, N - e))
    if r_point is None or not _has_even_y(r_point) or r_point[0] != r:
        return False
    return True
