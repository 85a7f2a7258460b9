#!/usr/bin/env python3
"""A dotpha publisher in Python, written from CONTRACT.md alone.

It registers a root unit (the bootstrap submission of an empty log):

    python3 examples/publish.py nats://127.0.0.1:4222 [--unit son-duong]

It subscribes to the unit's receipts before publishing, publishes through
JetStream with `Nats-Msg-Id: <submission_id>`, waits for the receipt carrying
its submission_id and, if none comes, asks `dotpha.v1.receipt.get`. It prints
the receipt JSON and exits 0 when accepted, 1 when rejected, 2 when it has no
receipt (the contract's exit codes of `dotpha submit`).

Needs nats-py (`python3 -m pip install nats-py`).
"""

import argparse
import asyncio
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

import nats
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

ACCEPTED, REJECTED, NO_RECEIPT = 0, 1, 2
RECEIPT_TIMEOUT = 10.0  # seconds to wait for the receipt after the PubAck
REQUEST_TIMEOUT = 5.0  # seconds for the PubAck and for receipt.get
PUBLISH_ATTEMPTS = 3  # publishes (same submission_id) before giving up on a PubAck

# The civil time zone of the domain: Asia/Ho_Chi_Minh, a fixed UTC+07:00.
VIETNAM = timezone(timedelta(hours=7))


def bootstrap_submission(unit, name, kind, actor):
    """A `unit.registered` submission for a root unit (parent null)."""
    return {
        "schema": "dotpha.submission.v1",
        "submission_id": uuid.uuid4().hex,
        "unit": unit,
        "actor": actor,
        "occurred_at": datetime.now(VIETNAM).isoformat(timespec="seconds"),
        "type": "unit.registered",
        "data": {"code": unit, "name": name, "kind": kind, "parent": None},
    }


async def next_receipt(subscription, submission_id, timeout):
    """The first receipt on `subscription` for `submission_id`, or None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        try:
            message = await subscription.next_msg(timeout=remaining)
        except NatsTimeout:
            return None
        try:
            receipt = json.loads(message.data)
        except ValueError:
            continue
        if isinstance(receipt, dict) and receipt.get("submission_id") == submission_id:
            return receipt


async def ask_for_receipt(nc, unit, submission_id):
    """Asks the writer for this unit's receipt; None when it has none (yet).

    Naming the unit matters: a receipt is private to the unit it was decided
    for, so a unit whose id was already used by another unit is answered its
    own refusal (already_exists), never the other unit's receipt.
    """
    body = json.dumps({"submission_id": submission_id, "unit": unit}).encode()
    try:
        reply = await nc.request("dotpha.v1.receipt.get", body, timeout=REQUEST_TIMEOUT)
    except (NatsTimeout, NoRespondersError, NatsError):
        return None
    try:
        receipt = json.loads(reply.data)
    except ValueError:
        return None
    # An answer without the submission is {"error": {...}}: not decided yet.
    if isinstance(receipt, dict) and receipt.get("submission_id") == submission_id:
        return receipt
    return None


async def publish(url, submission):
    unit = submission["unit"]
    submission_id = submission["submission_id"]
    body = json.dumps(submission, ensure_ascii=False).encode("utf-8")
    async def quiet(error):  # failures are reported once, below, not per attempt
        pass

    try:
        nc = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=REQUEST_TIMEOUT,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                error_cb=quiet,
            ),
            timeout=2 * REQUEST_TIMEOUT,
        )
    except Exception as error:  # noqa: BLE001 - any failure to connect means no receipt
        print(f"publish.py: cannot connect to {url}: {error!r}", file=sys.stderr)
        return None
    try:
        # Subscribe before publishing, and make sure the server has the
        # subscription, or the receipt could go by unheard.
        receipts = await nc.subscribe(f"dotpha.v1.receipt.{unit}")
        await nc.flush()
        js = nc.jetstream()
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                # The PubAck only says the broker holds it; the receipt is the promise.
                await js.publish(
                    f"dotpha.v1.submit.{unit}",
                    body,
                    timeout=REQUEST_TIMEOUT,
                    headers={"Nats-Msg-Id": submission_id},
                )
                break
            except (NatsTimeout, NoRespondersError, NatsError) as error:
                print(f"publish.py: attempt {attempt}: no PubAck: {error!r}", file=sys.stderr)
                await asyncio.sleep(0.2 * attempt)
        receipt = await next_receipt(receipts, submission_id, RECEIPT_TIMEOUT)
        if receipt is None:
            receipt = await ask_for_receipt(nc, unit, submission_id)
        return receipt
    finally:
        await nc.close()


def main():
    parser = argparse.ArgumentParser(description="Register a root unit in an empty dotpha log.")
    parser.add_argument("url", help="NATS URL, e.g. nats://127.0.0.1:4222")
    parser.add_argument("--unit", default="son-duong", help="the root unit's code")
    parser.add_argument("--name", default="Huyện Sơn Dương", help="the root unit's name")
    parser.add_argument("--kind", default="district", help="the root unit's kind")
    parser.add_argument("--actor", default="to-chuc-noi-vu", help="the bootstrap actor")
    args = parser.parse_args()

    submission = bootstrap_submission(args.unit, args.name, args.kind, args.actor)
    receipt = asyncio.run(publish(args.url, submission))
    if receipt is None:
        print(
            f"publish.py: no receipt for {submission['submission_id']}; "
            "publish it again with the same submission_id",
            file=sys.stderr,
        )
        return NO_RECEIPT
    print(json.dumps(receipt, ensure_ascii=False))
    return ACCEPTED if receipt.get("status") == "accepted" else REJECTED


if __name__ == "__main__":
    sys.exit(main())
