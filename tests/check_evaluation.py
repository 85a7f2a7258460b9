#!/usr/bin/env python3
"""Recompute every evaluation figure of a dotpha log independently of dotpha.

Usage: check_evaluation.py --log LOG.sqlite [--url http://HOST:PORT] [--token TOKEN]
       check_evaluation.py --self-test

Written from CONTRACT.md part A ("Evaluating cadres by period") and the
contract's completion formula alone, with the Python standard library only.
It reads the events of the log file in position order, keeps what part A
needs (periods, tasks with their current assignee, cancellation, due date,
targets, current plan, reports, milestone completions and reviews), and at
every `assessment.decided` recomputes from the events before it:

  - the cadre's products in the period: among the tasks whose current
    assignee is the cadre and which are not cancelled, each task due in the
    period and each milestone of its current plan due in the period;
  - each product's done day: for a task, the `as_of` of the first progress
    report that brings its completion to 100 (reports taken in the order of
    the day they describe, then the log's; the latest value of a metric is
    the one with the greatest `as_of`, then the later in the log); for a
    milestone, the `completed_on` of its first completion;
  - q, l and p (l from the product's latest review), task points
    T = 70 x sum(q + l + p) / (3 n) rounded half away from zero to two
    decimals, exactly (fractions, no floats), the total, the ceiling by
    rules 1 to 5, and the rating (the one given, which must not be above the
    ceiling, else the ceiling);

and compares them with what the event carries. Then the excellent quota per
period, evaluating body (the decision's envelope `unit`) and peer group, from
each cadre's latest decision. With --url it also reads the period routes
(`/api/v1/periods/{period}/assessments` and `/quota`, at the log's head) and
compares their figures with its own, the live products of cadres not yet
decided included.

Prints one line per period and `ok` and exits 0, or prints the first
difference (naming the event's position) and exits 1. Exits 2 when the log
or the server cannot be read.
"""

import json
import os
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from fractions import Fraction

SCHEME = "nd335-2025"
RATINGS = ["excellent", "good", "completed", "not_completed"]  # best first
QUOTA_PERCENT = 20


class Differs(Exception):
    """A recomputed figure is not the recorded one."""


class Unreadable(Exception):
    """The log or the server could not be read."""


# ---------------------------------------------------------------------------
# Numbers: exact, from the JSON text
# ---------------------------------------------------------------------------


def exact(value):
    """A JSON number as an exact fraction (JSON is read with Decimal)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    return Fraction(value)


def round_half_away(x, decimals=2):
    """x rounded half away from zero to `decimals` decimals, as a Fraction."""
    scale = 10**decimals
    scaled = abs(x) * scale
    whole = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Fraction(whole if x >= 0 else -whole, scale)


def show(x):
    """A fraction with at most a few decimals, as text."""
    if x is None:
        return "null"
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    return format(Decimal(x.numerator) / Decimal(x.denominator), "f").rstrip("0")


# ---------------------------------------------------------------------------
# The rules of part A
# ---------------------------------------------------------------------------


def band(total):
    if total >= 90:
        return "excellent"
    if total >= 70:
        return "good"
    if total >= 50:
        return "completed"
    return "not_completed"


def factors(done_on, due, ends_on, major_errors):
    """(q, l, p) of a product, as Fractions."""
    q = Fraction(1) if done_on is not None and done_on <= ends_on else Fraction(0)
    p = q if done_on is not None and done_on <= due else Fraction(3, 4) * q
    l = q * max(Fraction(0), 1 - Fraction(1, 4) * major_errors)
    return q, l, p


def task_points(products):
    n = len(products)
    s = sum(p["q"] + p["l"] + p["p"] for p in products)
    return round_half_away(Fraction(70) * s / (3 * n))


def ceiling(total, disqualified, products):
    """Rules 1 to 5; with no product only the score bands (and rule 1)."""
    if total < 50 or disqualified:
        return "not_completed"
    if not products:
        return band(total)
    n = len(products)
    done = sum(1 for p in products if p["q"] == 1)
    if total >= 90 and all(p["p"] == 1 for p in products):
        return "excellent"
    if total >= 70 and done == n:
        return "good"
    if total >= 50 and done * 100 >= 80 * n:
        return "completed"
    return "not_completed"


def above(a, b):
    return RATINGS.index(a) < RATINGS.index(b)


# ---------------------------------------------------------------------------
# The state the rules read, folded from the events
# ---------------------------------------------------------------------------


class Task:
    def __init__(self, task_id, assignee, due, targets):
        self.task_id = task_id
        self.assignee = assignee
        self.due = due
        self.targets = [
            (t["metric"], exact(t["baseline"]), exact(t["target"])) for t in targets
        ]
        self.cancelled = False
        self.milestones = []  # (title, due) of the current plan
        self.completed = {}  # title -> completed_on of the first completion
        self.reviews = {}  # None (the task) or title -> major errors, latest
        self.reports = []  # (as_of, position, {metric: value}, percent or None)

    def reached(self, latest, percent):
        """Whether the completion formula gives 100."""
        if not self.targets:
            return percent is not None and percent >= 100
        for metric, baseline, target in self.targets:
            value = latest.get(metric, baseline)
            if target == baseline:
                if value != target:
                    return False
            elif (value - baseline) / (target - baseline) < 1:
                return False
        return True

    def done_on(self):
        latest, percent = {}, None
        for as_of, _position, values, pct in sorted(self.reports, key=lambda r: r[:2]):
            latest.update(values)
            if pct is not None:
                percent = pct
            if self.reached(latest, percent):
                return as_of
        return None


class Log:
    def __init__(self):
        self.periods = {}  # period -> {kind, starts_on, ends_on, closed}
        self.tasks = {}
        self.cadres = {}  # id -> unit
        # (period, cadre) -> latest decision {unit, peer_group, rating, data, position}
        self.decisions = {}
        self.self_assessed = set()  # (period, cadre)
        self.checked = 0

    def products(self, cadre, period):
        p = self.periods[period]
        starts, ends = p["starts_on"], p["ends_on"]
        out = []
        for task in self.tasks.values():
            if task.assignee != cadre or task.cancelled:
                continue
            if starts <= task.due <= ends:
                done = task.done_on()
                q, l, pr = factors(done, task.due, ends, task.reviews.get(None, 0))
                out.append(dict(task_id=task.task_id, milestone=None, due=task.due,
                                done_on=done, q=q, l=l, p=pr))
            for title, due in task.milestones:
                if starts <= due <= ends:
                    done = task.completed.get(title)
                    q, l, pr = factors(done, due, ends, task.reviews.get(title, 0))
                    out.append(dict(task_id=task.task_id, milestone=title, due=due,
                                    done_on=done, q=q, l=l, p=pr))
        return out

    def apply(self, position, kind, unit, actor, data):
        if kind == "cadre.registered":
            self.cadres[data["id"]] = data["unit"]
        elif kind == "period.opened":
            self.periods[data["period"]] = dict(
                kind=data["kind"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                closed=False)
        elif kind == "period.closed":
            self.periods[data["period"]]["closed"] = True
        elif kind in ("task.assigned", "task.registered"):
            assignee = data["assignee"] if kind == "task.assigned" else actor
            self.tasks[data["task_id"]] = Task(
                data["task_id"], assignee, data["due"], data.get("targets", []))
        elif kind == "task.reassigned":
            self.tasks[data["task_id"]].assignee = data["assignee"]
        elif kind == "task.cancelled":
            self.tasks[data["task_id"]].cancelled = True
        elif kind == "plan.submitted":
            self.tasks[data["task_id"]].milestones = [
                (m["title"], m["due"]) for m in data["milestones"]]
        elif kind == "progress.reported":
            values = {v["metric"]: exact(v["value"]) for v in data["values"]}
            pct = data.get("percent_complete")
            self.tasks[data["task_id"]].reports.append(
                (data["as_of"], position, values, None if pct is None else exact(pct)))
        elif kind == "milestone.completed":
            self.tasks[data["task_id"]].completed.setdefault(
                data["milestone"], data["completed_on"])
        elif kind == "product.reviewed":
            self.tasks[data["task_id"]].reviews[data.get("milestone")] = data["major_errors"]
        elif kind == "assessment.self_submitted":
            self.self_assessed.add((data["period"], actor))
        elif kind == "assessment.decided":
            self.check_decision(position, data)
            self.decisions[(data["period"], data["cadre"])] = dict(
                unit=unit, peer_group=data["peer_group"], rating=data["rating"],
                data=data, position=position)

    def check_decision(self, position, data):
        where = f"position {position} (assessment.decided of {data.get('cadre')} in {data.get('period')})"

        def differs(what, recorded, computed):
            raise Differs(f"{where}: {what} is {recorded} in the event, recomputed {computed}")

        if data.get("scheme") != SCHEME:
            differs("scheme", data.get("scheme"), SCHEME)
        period = data["period"]
        if period not in self.periods:
            raise Differs(f"{where}: the period was never opened")
        products = self.products(data["cadre"], period)
        compare_products(differs, data.get("products"), products)
        general = exact(data["general_points"])
        if products:
            t = task_points(products)
        else:
            t = exact(data["task_points"])
        if exact(data["task_points"]) != t:
            differs("task_points", show(exact(data["task_points"])), show(t))
        total = general + t
        if exact(data["total"]) != total:
            differs("total", show(exact(data["total"])), show(total))
        c = ceiling(total, bool(data.get("disqualified")), products)
        if data["ceiling"] != c:
            differs("ceiling", data["ceiling"], c)
        if above(data["rating"], c):
            differs("rating", data["rating"], f"at most {c}")
        self.checked += 1

    def quota(self, period):
        """{(evaluating unit, peer group): (excellent, good)} from the latest decisions."""
        groups = {}
        for (p, _cadre), d in self.decisions.items():
            if p != period:
                continue
            key = (d["unit"], d["peer_group"])
            e, g = groups.get(key, (0, 0))
            groups[key] = (e + (d["rating"] == "excellent"), g + (d["rating"] == "good"))
        return groups


def product_key(p):
    return (p["task_id"], p["milestone"] or "", p["due"])


def compare_products(differs, recorded, computed):
    if recorded is None:
        differs("products", "missing", f"{len(computed)} products")
    recorded = sorted(
        (dict(task_id=p["task_id"], milestone=p["milestone"], due=p["due"],
              done_on=p["done_on"], q=exact(p["q"]), l=exact(p["l"]), p=exact(p["p"]))
         for p in recorded),
        key=product_key)
    computed = sorted(computed, key=product_key)
    if len(recorded) != len(computed):
        differs("the number of products", len(recorded),
                f"{len(computed)} ({', '.join(describe(p) for p in computed) or 'none'})")
    for r, c in zip(recorded, computed):
        for member in ("task_id", "milestone", "due", "done_on", "q", "l", "p"):
            if r[member] != c[member]:
                value = (lambda v: show(v) if isinstance(v, Fraction) else json.dumps(v, ensure_ascii=False))
                differs(f"{member} of product {describe(c)}", value(r[member]), value(c[member]))


def describe(p):
    return p["task_id"] + (f" / {p['milestone']}" if p["milestone"] else "")


# ---------------------------------------------------------------------------
# Reading the log and the routes
# ---------------------------------------------------------------------------


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def load(text):
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)


def read_log(path):
    if not os.path.isfile(path):
        raise Unreadable(f"{path}: no such file")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        rows = conn.execute(
            "SELECT position, type, unit, actor, data FROM events ORDER BY position")
        log, head = Log(), 0
        for position, kind, unit, actor, data in rows:
            try:
                log.apply(position, kind, unit, actor, load(data))
            except (KeyError, ValueError, TypeError) as e:
                raise Differs(f"position {position} ({kind}): cannot be read as part A says: {e!r}") from e
            head = position
        conn.close()
    except sqlite3.Error as e:
        raise Unreadable(f"{path}: cannot read the events table: {e}") from e
    return log, head


def get(url, path, token):
    request = urllib.request.Request(url.rstrip("/") + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return load(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise Unreadable(f"GET {path}: {e}") from e


def check_routes(log, head, url, token):
    for period in sorted(log.periods):
        q = urllib.parse.quote(period)
        quota = get(url, f"/api/v1/periods/{q}/quota?min_position={head}", token)
        served = {(g["evaluating_unit"], g["peer_group"]): g for g in quota["groups"]}
        mine = log.quota(period)
        if set(served) != set(mine):
            raise Differs(f"GET /api/v1/periods/{period}/quota: groups {sorted(served)}, recomputed {sorted(mine)}")
        for key, (e, g) in mine.items():
            s = served[key]
            want = dict(excellent=e, good=g, limit=g * QUOTA_PERCENT // 100,
                        exceeded=e * 100 > g * QUOTA_PERCENT)
            for member, value in want.items():
                if s[member] != value:
                    raise Differs(f"GET /api/v1/periods/{period}/quota: {key} {member} is {s[member]}, recomputed {value}")

        sheet = get(url, f"/api/v1/periods/{q}/assessments?min_position={head}", token)
        lines = {line["cadre"]: line for line in sheet["assessments"]}
        expected = {c for c in log.cadres if log.products(c, period)}
        expected |= {c for (p, c) in log.decisions if p == period}
        expected |= {c for (p, c) in log.self_assessed if p == period}
        if set(lines) != expected:
            raise Differs(
                f"GET /api/v1/periods/{period}/assessments: cadres {sorted(lines)}, recomputed {sorted(expected)}")
        for cadre, line in lines.items():
            where = f"GET /api/v1/periods/{period}/assessments, {cadre}"

            def differs(what, recorded, computed, where=where):
                raise Differs(f"{where}: {what} is {recorded}, recomputed {computed}")

            decision = log.decisions.get((period, cadre))
            if decision is None:
                compare_products(differs, line["products"], log.products(cadre, period))
                for member in ("general_points", "task_points", "total", "ceiling", "rating"):
                    if line[member] is not None:
                        differs(member, line[member], "null (not decided)")
                continue
            d = decision["data"]
            compare_products(differs, line["products"], [
                dict(p, q=exact(p["q"]), l=exact(p["l"]), p=exact(p["p"])) for p in d["products"]])
            for member in ("general_points", "task_points", "total"):
                if exact(line[member]) != exact(d[member]):
                    differs(member, line[member], show(exact(d[member])))
            for member in ("ceiling", "rating", "peer_group"):
                if line[member] != d[member]:
                    differs(member, line[member], d[member])
            if line["evaluating_unit"] != decision["unit"]:
                differs("evaluating_unit", line["evaluating_unit"], decision["unit"])
            done = sum(1 for p in d["products"] if exact(p["q"]) == 1)
            on_time = sum(1 for p in d["products"] if exact(p["p"]) == 1)
            if (line["products_done"], line["products_on_time"]) != (done, on_time):
                differs("products done, on time", (line["products_done"], line["products_on_time"]),
                        (done, on_time))


def check(path, url, token):
    log, head = read_log(path)
    if url:
        check_routes(log, head, url, token)
    for period in sorted(log.periods):
        decided = sum(1 for (p, _c) in log.decisions if p == period)
        quota = log.quota(period)
        over = [f"{u}/{g} ({e} xuất sắc / {gd} tốt, giới hạn {gd * QUOTA_PERCENT // 100})"
                for (u, g), (e, gd) in sorted(quota.items()) if e * 100 > gd * QUOTA_PERCENT]
        print(f"{period}: {decided} cadres decided, {len(quota)} quota groups"
              + (f", over the quota: {'; '.join(over)}" if over else ""))
    print(f"{log.checked} decisions recomputed up to position {head}"
          + (", routes agree" if url else "") + ", ok")


# ---------------------------------------------------------------------------
# Self-test: the contract's own examples
# ---------------------------------------------------------------------------


def self_test():
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append(f"{what}: got {got!r}, want {want!r}")

    def product(done_on, due="2026-03-15", ends="2026-03-31", errors=0):
        q, l, p = factors(done_on, due, ends, errors)
        return dict(q=q, l=l, p=p)

    expect("70 x 11/12", task_points([product("2026-03-20")]), Fraction(6417, 100))
    expect("late p", product("2026-03-20")["p"], Fraction(3, 4))
    expect("undone", product(None), dict(q=0, l=0, p=0))
    expect("after the period", product("2026-04-01"), dict(q=0, l=0, p=0))
    expect("two major errors halve quality", product("2026-03-01", errors=2)["l"], Fraction(1, 2))
    expect("five errors", product("2026-03-01", errors=5)["l"], 0)
    expect("tie rounds away", round_half_away(Fraction(39375, 1000)), Fraction(3938, 100))
    expect("negative tie", round_half_away(Fraction(-39375, 1000)), Fraction(-3938, 100))
    four = [product("2026-03-01"), product("2026-03-20", errors=4),
            product("2026-03-01", errors=4), product(None)]
    expect("T of four", task_points(four), Fraction(3938, 100))
    on_time, late, undone = product("2026-03-01"), product("2026-03-20"), product(None)
    expect("92 with a late product", ceiling(Fraction(92), False, [on_time, late]), "good")
    expect("75 with 4 of 5 done", ceiling(Fraction(75), False, [on_time] * 4 + [undone]), "completed")
    expect("75 with 1 of 2 done", ceiling(Fraction(75), False, [on_time, undone]), "not_completed")
    expect("disqualified", ceiling(Fraction(95), True, [on_time]), "not_completed")
    expect("bands only", ceiling(Fraction(95), False, []), "excellent")
    expect("49.99", ceiling(Fraction(4999, 100), False, []), "not_completed")
    expect("show", show(Fraction(6417, 100)), "64.17")
    expect("exact 58.33", exact(load("58.33")), Fraction(5833, 100))
    if failures:
        print("\n".join(failures))
        print(f"self-test: {len(failures)} failures")
        return 1
    print("self-test ok")
    return 0


def main(argv):
    args = argv[1:]
    if args == ["--self-test"]:
        return self_test()
    options = {}
    while args:
        flag = args.pop(0)
        if flag not in ("--log", "--url", "--token") or not args:
            print(__doc__.strip().splitlines()[2], file=sys.stderr)
            return 2
        options[flag] = args.pop(0)
    if "--log" not in options:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        check(options["--log"], options.get("--url"), options.get("--token"))
    except Differs as e:
        print(f"differs: {e}")
        return 1
    except Unreadable as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
