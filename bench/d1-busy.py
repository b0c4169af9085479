#!/usr/bin/env python3
"""D1 busy time of the simple task, measured in SQLite (bench section 8).

D1 runs one statement at a time per database, so the time its SQLite spends on a task's
statements caps tasks per second per database. workerd's clock does not move while code runs,
so the local D1 reports 0 ms for every statement; this replays the exact statements the Worker
ran for one simple task (SQL and bound values, captured by bench/cost/meter.ts and passed on
stdin as JSON) against a SQLite database built from migrations/, N times with fresh task and
audit ids, and prints the median milliseconds per task. It is SQLite's own work on this
machine: a floor for deployed D1, which adds durability and its own overhead.

Usage: python3 bench/d1-busy.py [N] < statements.json   (prints one JSON line)
"""
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ID = re.compile(r"^(team|key|tok|task|aud|req)_[0-9a-z]{26}$")


def build(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    # Commits without an fsync each: D1's durability is its own (replicated) business; this
    # times SQLite's work on the statements, not this machine's disk.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrations = sorted(f for f in os.listdir(os.path.join(ROOT, "migrations")) if f.endswith(".sql"))
    for name in migrations:
        with open(os.path.join(ROOT, "migrations", name), encoding="utf8") as f:
            db.executescript(f.read())
    return db


def seed(db, statements):
    """The rows the task's statements read: its team, its key, the token it references."""
    ids = {a for s in statements for a in s["args"] if isinstance(a, str) and ID.match(a)}
    at = "2026-01-01T00:00:00.000Z"
    for team in (i for i in ids if i.startswith("team_")):
        db.execute("INSERT INTO teams (id, name, plan, key_salt, created_at) VALUES (?, 'bench', 'pro', 'c2FsdA==', ?)", (team, at))
        for key in (i for i in ids if i.startswith("key_")):
            db.execute("INSERT INTO api_keys (id, team_id, name, key_hash, prefix, created_at) VALUES (?, ?, 'bench', ?, 'tvk_x', ?)", (key, team, key, at))
        for tok in (i for i in ids if i.startswith("tok_")):
            db.execute("INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at) VALUES (?, ?, 'bench', 'sealed', 'iv', 1, ?)", (tok, team, at))


def fresh(statements, n):
    """The statements with this run's own task, audit and request ids (the rest stays shared)."""
    rename = {}
    for s in statements:
        for a in s["args"]:
            if isinstance(a, str) and ID.match(a) and a.split("_")[0] in ("task", "aud", "req"):
                rename.setdefault(a, a[:-6] + f"{n:06d}")
    for s in statements:
        args = [rename.get(a, a) if isinstance(a, str) else a for a in s["args"]]
        # The resolution reads the pinned version with a JSON path naming the token: unchanged.
        yield s["sql"], args


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    statements = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as tmp:
        db = build(os.path.join(tmp, "d1.sqlite"))
        seed(db, statements)
        before = size(db)
        times = []
        for n in range(runs):
            started = time.perf_counter()
            # One transaction per D1 round trip, as D1 runs a batch.
            trip = None
            for (sql, args), s in zip(fresh(statements, n), statements):
                if s.get("roundTrip") != trip:
                    if trip is not None:
                        db.execute("COMMIT")
                    db.execute("BEGIN")
                    trip = s.get("roundTrip")
                db.execute(sql, args).fetchall()
            db.execute("COMMIT")
            times.append((time.perf_counter() - started) * 1000)
        rows = db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        grown = size(db) - before
    print(json.dumps({
        "runs": runs, "tasksStored": rows, "statementsPerTask": len(statements),
        "msPerTaskMedian": round(statistics.median(times), 4), "msPerTaskP90": round(sorted(times)[int(runs * 0.9)], 4),
        # What a stored task takes in the database (its row, attempt, audit row and every index entry).
        "bytesPerTask": round(grown / runs), "sqlite": sqlite3.sqlite_version,
    }))


def size(db):
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, page_size, free = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size", "freelist_count"))
    return (pages - free) * page_size


if __name__ == "__main__":
    main()
