#!/usr/bin/env python3
"""Check a dotpha log's hash chain independently of dotpha.

Usage: check_chain.py LOG.sqlite
       check_chain.py --self-test

Written from CONTRACT.md ("Committed events") and RFC 8785 alone, with the
Python standard library only. For each event, in position order, it builds
the contract's event object without `hash`, serializes it canonically
(RFC 8785, JSON Canonicalization Scheme), and checks that

  - positions run 1, 2, 3, ... without gaps,
  - `prev_hash` is the previous event's `hash` (64 zeros for the first),
  - `hash` is the lowercase hex SHA-256 of the canonical form.

Prints `N events, chain ok, head POSITION:HASH` and exits 0, or prints the
first bad position and why and exits 1. Exits 2 when the log cannot be read.
"""

import hashlib
import json
import math
import os
import sqlite3
import struct
import sys
import urllib.parse

GENESIS = "0" * 64

COLUMNS = (
    "position",
    "schema",
    "stream",
    "version",
    "type",
    "unit",
    "actor",
    "occurred_at",
    "recorded_at",
    "submission_id",
    "data",
    "prev_hash",
    "hash",
)


class NotCanonicalizable(ValueError):
    """A value that has no RFC 8785 form (NaN, infinity, a lone surrogate)."""


# ---------------------------------------------------------------------------
# RFC 8785
# ---------------------------------------------------------------------------


def jcs(value):
    """The RFC 8785 canonical form of a JSON value, as UTF-8 bytes."""
    out = []
    _write(value, out)
    text = "".join(out)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        # Section 3.2.2.2: strings must be valid Unicode (I-JSON).
        raise NotCanonicalizable("a string holds a lone surrogate") from e


def _write(value, out):
    # bool first: in Python, True is also an int.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (int, float)):
        out.append(number(value))
    elif isinstance(value, str):
        out.append(string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        # Section 3.2.3: members sorted by their names as arrays of UTF-16
        # code units. Big-endian UTF-16 bytes compare exactly like that.
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_units)):
            if not isinstance(key, str):
                raise NotCanonicalizable("an object member name is not a string")
            if i:
                out.append(",")
            out.append(string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    else:
        raise NotCanonicalizable(f"not a JSON value: {type(value).__name__}")


def _utf16_units(key):
    return key.encode("utf-16-be", "surrogatepass")


def string(text):
    """Section 3.2.2.2: a string as ECMAScript JSON.stringify writes it."""
    out = ['"']
    for ch in text:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif c < 0x20:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def number(value):
    """Section 3.2.2.3: a number as ECMAScript Number.prototype.toString
    writes the IEEE 754 double it is."""
    if isinstance(value, int):
        try:
            value = float(value)
        except OverflowError as e:
            raise NotCanonicalizable("an integer beyond the range of a double") from e
    if math.isnan(value) or math.isinf(value):
        raise NotCanonicalizable("NaN and infinities have no JSON form")
    if value == 0:
        return "0"  # also -0
    if value < 0:
        return "-" + number(-value)
    digits, n = _shortest_digits(value)
    k = len(digits)
    # ECMA-262, Number::toString, steps for s (digits), k and n, where
    # value = s * 10^(n - k) and k is as small as possible.
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return mantissa + "e" + sign + str(abs(e))


def _shortest_digits(value):
    """For a positive finite double: the shortest decimal digit string s
    (no leading or trailing zeros) and exponent n with value = 0.s * 10^n
    that reads back as the same double. Python's repr gives the shortest
    round-tripping digits; only its layout is taken apart here."""
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        exponent = int(exponent)
    else:
        mantissa, exponent = text, 0
    if "." in mantissa:
        whole, fraction = mantissa.split(".")
    else:
        whole, fraction = mantissa, ""
    all_digits = whole + fraction
    # value = 0.<all_digits> * 10^(len(whole) + exponent)
    n = len(whole) + exponent
    stripped = all_digits.lstrip("0")
    n -= len(all_digits) - len(stripped)
    stripped = stripped.rstrip("0")
    return stripped, n


# ---------------------------------------------------------------------------
# The chain
# ---------------------------------------------------------------------------


def _no_duplicate_members(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def _constant(name):
    raise ValueError(f"{name} is not JSON")


def event_object(row):
    """The contract's event object without `hash`."""
    record = dict(zip(COLUMNS, row))
    data = json.loads(
        record["data"],
        object_pairs_hook=_no_duplicate_members,
        parse_constant=_constant,
    )
    return {
        "schema": record["schema"],
        "position": record["position"],
        "stream": record["stream"],
        "version": record["version"],
        "type": record["type"],
        "unit": record["unit"],
        "actor": record["actor"],
        "occurred_at": record["occurred_at"],
        "recorded_at": record["recorded_at"],
        "submission_id": record["submission_id"],
        "data": data,
        "prev_hash": record["prev_hash"],
    }


def check(path):
    if not os.path.isfile(path):
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        rows = conn.execute(
            "SELECT " + ", ".join(COLUMNS) + " FROM events ORDER BY position"
        )
    except sqlite3.Error as e:
        print(f"{path}: cannot read the events table: {e}", file=sys.stderr)
        return 2

    prev = GENESIS
    count = 0
    expected = 1
    for row in rows:
        position = row[0]
        stored = row[-1]

        def bad(why):
            print(f"bad at position {position}: {why}")
            return 1

        if position != expected:
            position = expected
            return bad(f"position {expected} is missing (the next event is at {row[0]})")
        if row[COLUMNS.index("prev_hash")] != prev:
            return bad(f"prev_hash is not the hash of position {position - 1}")
        try:
            canonical = jcs(event_object(row))
        except (ValueError, TypeError) as e:
            return bad(f"the event cannot be canonicalized: {e}")
        computed = hashlib.sha256(canonical).hexdigest()
        if computed != stored:
            return bad(f"hash is {stored} but the event hashes to {computed}")
        prev = stored
        count += 1
        expected += 1
    conn.close()
    print(f"{count} events, chain ok, head {count}:{prev}")
    return 0


# ---------------------------------------------------------------------------
# Self-test, from the RFC's own examples
# ---------------------------------------------------------------------------


def self_test():
    failures = 0

    def expect(what, got, want):
        nonlocal failures
        if got != want:
            failures += 1
            print(f"FAIL {what}: got {got!r}, want {want!r}")

    # RFC 8785 Appendix B: IEEE 754 bit patterns and their JSON form.
    for bits, want in [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ]:
        value = struct.unpack(">d", bytes.fromhex(bits))[0]
        expect(f"number {bits}", number(value), want)
    for bits in ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"]:
        try:
            number(struct.unpack(">d", bytes.fromhex(bits))[0])
            expect(f"number {bits}", "accepted", "refused")
        except NotCanonicalizable:
            pass
    for value, want in [
        (1, "1"), (394.5, "394.5"), (0.1, "0.1"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
        (1e-7, "1e-7"), (1e-6, "0.000001"), (123e-9, "1.23e-7"), (-1.5, "-1.5"), (120.0, "120"),
    ]:
        expect(f"number {value!r}", number(value), want)

    # RFC 8785 section 3.2.2: the example input and its canonical form.
    source = (
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        '"literals":[null,true,false]}'
    )
    want = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    expect("RFC 8785 3.2.2 example", jcs(json.loads(source)).decode("utf-8"), want)

    # RFC 8785 section 3.2.3: sorting by UTF-16 code units.
    source = (
        '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",'
        '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control",'
        '"\\u00f6":"Latin Small Letter O With Diaeresis"}'
    )
    order = [k for k in sorted(json.loads(source), key=_utf16_units)]
    expect(
        "RFC 8785 3.2.3 order",
        order,
        ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"],
    )

    # Strings: only the required escapes, lowercase hex, the rest as is.
    expect(
        "string escapes",
        string('"\\\b\f\n\r\t\x00\x1f\x7f\u2028é😀/'),
        '"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\u2028é😀/"',
    )

    if failures:
        print(f"self-test: {failures} failures")
        return 1
    print("self-test ok")
    return 0


def canonicalize_lines():
    """Reads one JSON text per line from stdin, writes its canonical form."""
    for line in sys.stdin.buffer:
        if line.strip():
            sys.stdout.buffer.write(jcs(json.loads(line.decode("utf-8"))) + b"\n")
    sys.stdout.buffer.flush()
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) == 2 and argv[1] == "--canonicalize":
        return canonicalize_lines()
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    return check(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
