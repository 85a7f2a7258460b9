#!/usr/bin/env python3
"""Check a dotpha log's checkpoint and proofs independently of dotpha.

Usage: check_tlog.py --url http://HOST:PORT --log LOG.sqlite [--key VKEY]
                     [--witness VKEY ...] [--min-cosignatures K]
       check_tlog.py --self-test

Written from CONTRACT.md part B ("Proofs for outsiders"), RFC 9162 section
2.1, C2SP signed-note, tlog-checkpoint and tlog-cosignature alone, with the
Python standard library and `cryptography` (for Ed25519) only. It

  - fetches the log's verifier key (GET /api/v1/log/key; with --key, it must
    be that one) and the latest checkpoint (GET /api/v1/log/checkpoint),
    parses the signed note and checks the log's Ed25519 signature;
  - recomputes the Merkle tree's root at the checkpoint's size from the
    events' hashes in the log file and compares it with the checkpoint's;
  - fetches inclusion proofs (GET /api/v1/log/proof/inclusion) for the
    first, last and a spread of positions and checks each against the
    signed root, and consistency proofs (GET /api/v1/log/proof/consistency)
    from a spread of sizes and checks each against the recomputed roots;
  - asks for a size beyond the checkpoint and expects a 4xx;
  - with --witness, checks the cosignature lines (cosignature/v1) of those
    witnesses on the note, and with --min-cosignatures that enough verify.

Prints one line per check group and `ok` and exits 0, or prints what failed
and exits 1. Exits 2 when something cannot be read at all.
"""

import base64
import hashlib
import json
import sqlite3
import sys
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failed(Exception):
    """A check did not hold."""


# ---------------------------------------------------------------------------
# RFC 9162 section 2.1
# ---------------------------------------------------------------------------


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """MTH(D[n]) of the leaf hashes, computed level by level."""
    if not leaves:
        return sha256(b"")
    level = list(leaves)
    # Bottom-up with the RFC's split: a level's last odd node is carried up
    # unchanged, which gives the same tree as the recursive definition.
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            nxt.append(node_hash(level[i], level[i + 1]))
        if len(level) % 2 == 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def mth_recursive(leaves):
    """MTH exactly as the RFC writes it (used by the self-test)."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = largest_power_of_two_below(n)
    return node_hash(mth_recursive(leaves[:k]), mth_recursive(leaves[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second:
        return False
    if first & (first - 1) == 0:  # a power of two
        proof = [first_root] + list(proof)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# ---------------------------------------------------------------------------
# C2SP signed-note, tlog-checkpoint, tlog-cosignature
# ---------------------------------------------------------------------------


def key_id(name, key_material):
    return sha256(name.encode() + b"\n" + key_material)[:4]


def parse_vkey(vkey, alg):
    """<name>+<hex key id>+<base64(type || key)>, of signature type `alg`."""
    name, hexid, b64 = vkey.strip().split("+", 2)
    material = base64.b64decode(b64, validate=True)
    if not name or any(c.isspace() for c in name):
        raise Failed(f"verifier key {vkey!r}: bad name")
    if len(hexid) != 8 or bytes.fromhex(hexid) != key_id(name, material):
        raise Failed(f"verifier key {vkey!r}: the key id does not match the key")
    if material[0] != alg or len(material) != 33:
        raise Failed(f"verifier key {vkey!r}: not an Ed25519 key of type {alg:#04x}")
    return name, bytes.fromhex(hexid), Ed25519PublicKey.from_public_bytes(material[1:])


def parse_note(note):
    """A signed note: (text, [(name, key id, signature bytes, line)])."""
    if "\n\n" not in note or not note.endswith("\n"):
        raise Failed("the checkpoint is not a signed note")
    text, block = note.rsplit("\n\n", 1)
    text += "\n"
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Failed(f"not a signature line: {line!r}")
        name, b64 = line[2:].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        if len(raw) < 5:
            raise Failed(f"signature line too short: {line!r}")
        signatures.append((name, raw[:4], raw[4:], line))
    return text, signatures


def parse_checkpoint(text):
    """origin, size, root from a tlog-checkpoint body."""
    lines = text.split("\n")
    if len(lines) < 4:
        raise Failed("a checkpoint has an origin, a size and a root hash")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Failed(f"tree size {size!r} is not a decimal number")
    root = base64.b64decode(root, validate=True)
    if len(root) != 32:
        raise Failed("the root hash is not 32 bytes")
    return origin, int(size), root


def check_log_signature(text, signatures, vkey):
    name, kid, public = parse_vkey(vkey, 0x01)
    for sname, skid, sig, _ in signatures:
        if sname == name and skid == kid:
            try:
                public.verify(sig, text.encode())
                return name
            except InvalidSignature:
                raise Failed("the log's signature on the checkpoint does not verify")
    raise Failed("the checkpoint carries no signature of the log's key")


def check_cosignature(text, signatures, vkey):
    name, kid, public = parse_vkey(vkey, 0x04)
    for sname, skid, sig, _ in signatures:
        if sname == name and skid == kid:
            if len(sig) != 72:
                raise Failed(f"cosignature of {name} is not timestamp || signature")
            timestamp = int.from_bytes(sig[:8], "big")
            message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
            try:
                public.verify(sig[8:], message)
                return True
            except InvalidSignature:
                raise Failed(f"the cosignature of {name} does not verify")
    return False


# ---------------------------------------------------------------------------
# the log's routes and file
# ---------------------------------------------------------------------------


def get(url):
    """(status, body bytes)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(url):
    status, body = get(url)
    if status != 200:
        raise Failed(f"GET {url}: {status} {body[:300]!r}")
    return json.loads(body)


def event_hashes(log_path, size):
    conn = sqlite3.connect(f"file:{log_path}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT position, hash FROM events WHERE position <= ? ORDER BY position", (size,)
    ).fetchall()
    conn.close()
    if [p for p, _ in rows] != list(range(1, size + 1)):
        raise Failed(f"the log file does not hold positions 1 to {size}")
    return [bytes.fromhex(h) for _, h in rows]


def spread(n, count):
    """Up to `count` values from 1 to n, ends included."""
    if n <= count:
        return list(range(1, n + 1))
    step = max(1, n // (count - 1))
    return sorted(set([1, n] + list(range(1, n, step))))


def check(url, log_path, expected_key, witnesses, min_cosignatures):
    status, key = get(f"{url}/api/v1/log/key")
    if status != 200:
        raise Failed(f"GET /api/v1/log/key: {status}")
    vkey = key.decode().strip()
    if expected_key is not None and vkey != expected_key.strip():
        raise Failed(f"the served key {vkey!r} is not the expected {expected_key!r}")
    status, note = get(f"{url}/api/v1/log/checkpoint")
    if status != 200:
        raise Failed(f"GET /api/v1/log/checkpoint: {status} {note[:300]!r}")
    note = note.decode()
    text, signatures = parse_note(note)
    name = check_log_signature(text, signatures, vkey)
    origin, size, root = parse_checkpoint(text)
    if origin != name:
        raise Failed(f"the origin {origin!r} is not the key's name {name!r}")
    print(f"checkpoint: {origin} size {size}, signed by {vkey}")

    cosigned = sum(1 for w in witnesses if check_cosignature(text, signatures, w))
    if cosigned < min_cosignatures:
        raise Failed(f"{cosigned} witness cosignatures verify, {min_cosignatures} wanted")
    if witnesses:
        print(f"cosignatures: {cosigned} of {len(witnesses)} witnesses verify")

    leaves = [leaf_hash(h) for h in event_hashes(log_path, size)]
    if mth(leaves) != root:
        raise Failed(f"the root recomputed from the log's {size} events is not the checkpoint's")
    print(f"root: recomputed from {size} events, equal")

    proofs = 0
    for position in spread(size, 40):
        p = get_json(f"{url}/api/v1/log/proof/inclusion?position={position}&size={size}")
        if p["position"] != position or p["tree_size"] != size:
            raise Failed(f"inclusion proof of {position}: answers another question: {p}")
        if bytes.fromhex(p["leaf_hash"]) != leaves[position - 1]:
            raise Failed(f"inclusion proof of {position}: the leaf hash is not the event's")
        path = [bytes.fromhex(h) for h in p["proof"]]
        if not verify_inclusion(position - 1, size, leaves[position - 1], path, root):
            raise Failed(f"inclusion proof of {position} in {size} does not verify")
        proofs += 1
    print(f"inclusion: {proofs} proofs verify against the signed root")

    proofs = 0
    for first in spread(size, 25):
        p = get_json(f"{url}/api/v1/log/proof/consistency?from={first}&to={size}")
        path = [bytes.fromhex(h) for h in p["proof"]]
        if not verify_consistency(first, size, mth(leaves[:first]), root, path):
            raise Failed(f"consistency proof {first} to {size} does not verify")
        proofs += 1
    print(f"consistency: {proofs} proofs verify against the signed root")

    for route in (
        f"proof/inclusion?position=1&size={size + 1}",
        f"proof/consistency?from=1&to={size + 1}",
    ):
        status, body = get(f"{url}/api/v1/log/{route}")
        if not 400 <= status < 500 or "error" not in json.loads(body):
            raise Failed(f"{route} beyond the checkpoint answered {status}, not a 4xx error")
    print("beyond the checkpoint: refused with 4xx")
    print("ok")


def self_test():
    leaves = [
        bytes.fromhex(h)
        for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                  "606162636465666768696a6b6c6d6e6f"]
    ]
    roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    hashed = [leaf_hash(l) for l in leaves]
    for n in range(1, 9):
        assert mth(hashed[:n]).hex() == roots[n - 1], n
        assert mth_recursive(hashed[:n]).hex() == roots[n - 1], n
    for n in range(1, 70):
        many = [leaf_hash(bytes([i])) for i in range(n)]
        assert mth(many) == mth_recursive(many), n
    root8 = bytes.fromhex(roots[7])
    path = [bytes.fromhex(h) for h in [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]]
    assert verify_inclusion(0, 8, hashed[0], path, root8)
    assert not verify_inclusion(1, 8, hashed[0], path, root8)
    assert verify_consistency(1, 8, bytes.fromhex(roots[0]), root8, path)
    path = [bytes.fromhex(h) for h in [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]]
    assert verify_consistency(6, 8, bytes.fromhex(roots[5]), root8, path)
    assert not verify_consistency(6, 8, bytes.fromhex(roots[4]), root8, path)
    print("self-test ok")


def main(argv):
    if argv[1:] == ["--self-test"]:
        self_test()
        return 0
    args = {"--witness": []}
    i = 1
    while i < len(argv):
        flag = argv[i]
        if flag not in ("--url", "--log", "--key", "--witness", "--min-cosignatures") or i + 1 >= len(argv):
            print(__doc__, file=sys.stderr)
            return 2
        if flag == "--witness":
            args[flag].append(argv[i + 1])
        else:
            args[flag] = argv[i + 1]
        i += 2
    if "--url" not in args or "--log" not in args:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        check(
            args["--url"].rstrip("/"),
            args["--log"],
            args.get("--key"),
            args["--witness"],
            int(args.get("--min-cosignatures", "0")),
        )
    except Failed as e:
        print(f"FAILED: {e}")
        return 1
    except (OSError, sqlite3.Error, ValueError, KeyError) as e:
        print(f"cannot check: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
