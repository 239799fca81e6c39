"""The search phase: a million messages in 100 groups (bench/searchdata.py), searched by a member
of 10 of them, on SQLite and on PostgreSQL; and posting and the group page with the index in
place against the same database without it.

Each database is loaded at the revision before search (0009); the search migration then builds
and fills the index (timed). Searches go over HTTP to a DiscussIt server, as the page's live
results do (`/search/results`, the first page of 20): common words, rare words, phrases, the
word being typed (a prefix), and words common only in groups the searcher is not in; newest
first (the default) and best first. On SQLite a copy of the loaded database has the index
dropped again, and the two servers take turns as in the rate rounds (bench/run.py): N = 100
pages of one group, 10 messages/s, and group page loads.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import shutil
import statistics
import time
from typing import Any

import httpx2 as httpx
import itsdangerous
from sqlalchemy import create_engine, pool, text

from bench import searchdata, searchload
from bench.run import (
    RESULTS,
    ROUND_PAUSE,
    Target,
    bench_env,
    cpu_seconds,
    percentile,
    side_by_side,
    signed_login,
)
from discussit.core.db import sync_url

QUERIES_PER_KIND = 20  # different queries of each kind
REPEATS = 5  # each asked this many times (in a shuffled order)
PAGE_LOADS = 1000  # group page loads on each server (with and without the index)
POSTING_N = 100  # pages open while posting
POSTING_ROUNDS = 4  # rounds of 100 messages at 10/s, the servers taking turns
DROP_SQLITE_INDEX = [
    "DROP TRIGGER messages_fts_au",
    "DROP TRIGGER messages_fts_ad",
    "DROP TRIGGER messages_fts_ai",
    "DROP TABLE messages_fts",
]


def queries(data: searchdata.Data) -> dict[str, list[str]]:
    """The searches of each kind, chosen from the data's own vocabulary (deterministically)."""
    rng = random.Random(data.seed + 2)
    common = data.words[:40]  # each in 1 % to 40 % of messages (Zipf)
    rare = data.words[20_000:]  # a few messages each, or none
    elsewhere = [
        w for k in range(len(data.groups)) if k not in data.searcher_groups for w in data.topics[k]
    ]
    return {
        "common": rng.sample(common, QUERIES_PER_KIND),
        "rare": rng.sample(rare, QUERIES_PER_KIND),
        "phrase": [f'"{a} {b}"' for a, b in rng.sample(_bigrams(data), QUERIES_PER_KIND)],
        "prefix": rng.sample(
            sorted({w[:3] for w in data.words[:300] if len(w) > 4}), QUERIES_PER_KIND
        ),
        "two words": [
            f"{a} {b}"
            for a, b in zip(
                rng.sample(common, QUERIES_PER_KIND),
                rng.sample(data.words[100:2000], QUERIES_PER_KIND),
                strict=True,
            )
        ],
        "elsewhere": rng.sample(elsewhere, QUERIES_PER_KIND),
    }


def _bigrams(data: searchdata.Data) -> list[tuple[str, str]]:
    """Pairs of words that stand together in the searcher's groups' first messages."""
    pairs: set[tuple[str, str]] = set()
    mine = set(data.searcher_groups)
    for number, (group, _, _, said, _) in enumerate(data.messages()):
        if group in mine:
            words = said.split()
            pairs.update(zip(words, words[1:], strict=False))
        if number >= 20_000:
            break
    return sorted(pairs)


def searcher_cookie(url: str, secret_key: str) -> str:
    from sqlmodel import Session
    from sqlmodel import create_engine as sqlmodel_engine

    engine = sqlmodel_engine(sync_url(url))
    with Session(engine) as session:
        cookie = signed_login(session, 1, itsdangerous.TimestampSigner(secret_key))  # the searcher
        session.commit()
    engine.dispose()
    return cookie


def timed_searches(
    target: Target, cookie: str, data: searchdata.Data
) -> dict[str, dict[str, float]]:
    """p50/p99 (ms) and results per kind of search and order, over HTTP."""
    kinds = queries(data)
    asks = [
        (kind, q, sort) for kind, qs in kinds.items() for q in qs for sort in ("newest", "best")
    ]
    asks *= REPEATS
    random.Random(data.seed + 3).shuffle(asks)
    took: dict[tuple[str, str], list[float]] = {}
    hits: dict[tuple[str, str], list[int]] = {}
    with httpx.Client(
        base_url=target.url, headers={"Cookie": cookie, "HX-Request": "true"}, timeout=60
    ) as client:
        for _kind, q, sort in asks[:20]:  # warm up (caches, the first connections)
            client.get("/search/results", params={"q": q, "sort": sort})
        for kind, q, sort in asks:
            began = time.perf_counter()
            response = client.get("/search/results", params={"q": q, "sort": sort})
            took.setdefault((kind, sort), []).append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
            hits.setdefault((kind, sort), []).append(response.text.count('class="hit"'))
    return {
        f"{kind} / {sort}": {
            "p50_ms": percentile(samples, 0.50),
            "p99_ms": percentile(samples, 0.99),
            "max_ms": max(samples),
            "searches": len(samples),
            "mean_results": statistics.mean(hits[(kind, sort)]),
        }
        for (kind, sort), samples in took.items()
    }


def page_loads(targets: list[Target]) -> dict[str, dict[str, float]]:
    """The seeded group's page, loaded on each server in turn: p50/p99 (ms)."""
    took: dict[str, list[float]] = {t.name: [] for t in targets}
    clients = {t.name: httpx.Client(headers={"Cookie": t.cookies[0]}, timeout=30) for t in targets}
    try:
        for i in range(PAGE_LOADS + 10):
            for target in targets if i % 2 == 0 else targets[::-1]:
                began = time.perf_counter()
                response = clients[target.name].get(f"{target.url}/groups/{target.group}/")
                assert response.status_code == 200
                if i >= 10:
                    took[target.name].append((time.perf_counter() - began) * 1000)
    finally:
        for client in clients.values():
            client.close()
    return {
        name: {"p50_ms": percentile(samples, 0.5), "p99_ms": percentile(samples, 0.99)}
        for name, samples in took.items()
    }


def _sqlite(data: searchdata.Data) -> dict[str, Any]:
    folder = RESULTS / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with_index = folder / f"search-{secrets.token_hex(4)}.db"
    without = with_index.with_suffix(".noindex.db")
    out: dict[str, Any] = {"messages": data.count}
    began = time.perf_counter()
    searchload.load(f"sqlite:///{with_index}", data)
    out["load_s"] = time.perf_counter() - began
    out["size_without_mib"] = with_index.stat().st_size / 2**20
    shutil.copyfile(with_index, without)
    began = time.perf_counter()
    searchload.search_migration(f"sqlite:///{with_index}")
    out["migration_s"] = time.perf_counter() - began
    searchload.search_migration(f"sqlite:///{without}")  # then without the index again
    engine = create_engine(f"sqlite:///{without}", poolclass=pool.NullPool)
    with engine.begin() as conn:
        for statement in DROP_SQLITE_INDEX:
            conn.execute(text(statement))
    engine.dispose()
    out["size_mib"] = with_index.stat().st_size / 2**20
    targets = [
        Target(
            "without index", env=bench_env(f"sqlite:///{without}", RATE_LIMIT_SEARCHES="1000000/60")
        ),
        Target(
            "with index", env=bench_env(f"sqlite:///{with_index}", RATE_LIMIT_SEARCHES="1000000/60")
        ),
    ]
    try:
        for target in targets:
            target.start()
        searching = targets[1]
        assert searching.process is not None
        cookie = searcher_cookie(searching.env["DATABASE_URL"], searching.env["SECRET_KEY"])
        cpu = cpu_seconds(searching.process.pid)
        out["searches"] = timed_searches(searching, cookie, data)
        out["search_server_cpu_s"] = cpu_seconds(searching.process.pid) - cpu
        time.sleep(ROUND_PAUSE)
        rows = asyncio.run(side_by_side(targets, POSTING_N, POSTING_ROUNDS, 50, rate=10))
        out["posting"] = {t.name: row for t, row in zip(targets, rows, strict=True)}
        time.sleep(ROUND_PAUSE)
        out["group_page"] = page_loads(targets)
    finally:
        for target in targets:
            target.stop()
        for path in folder.glob(with_index.stem + "*"):
            path.unlink(missing_ok=True)
    return out


def _postgres(data: searchdata.Data, server_url: str) -> dict[str, Any]:
    """On a database of its own on the bench's PostgreSQL server (made, then dropped)."""
    name = f"search_{secrets.token_hex(4)}"
    admin = create_engine(
        sync_url(server_url), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    out: dict[str, Any] = {"messages": data.count}
    target = Target("postgres", env=bench_env(url, RATE_LIMIT_SEARCHES="1000000/60"))
    try:
        began = time.perf_counter()
        searchload.load(url, data)
        out["load_s"] = time.perf_counter() - began
        began = time.perf_counter()
        searchload.search_migration(url)
        out["migration_s"] = time.perf_counter() - began
        target.start()
        assert target.process is not None
        cookie = searcher_cookie(url, target.env["SECRET_KEY"])
        out["searches"] = timed_searches(target, cookie, data)
    finally:
        target.stop()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    return out


def search_phase(count: int, postgres_url: str | None) -> dict[str, Any]:
    data = searchdata.make(count)
    results: dict[str, Any] = {"sqlite": _sqlite(data)}
    print("search sqlite", results["sqlite"], flush=True)
    if postgres_url:
        results["postgres"] = _postgres(data, postgres_url)
        print("search postgres", results["postgres"], flush=True)
    return results


if __name__ == "__main__":  # python -m bench.search [count]: this phase alone
    import json
    import os
    import sys

    from bench.awake import cores_awake

    os.sched_setaffinity(0, {0})
    with cores_awake():
        found = search_phase(
            int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
            os.environ.get("TEST_DATABASE_URL"),
        )
    print(json.dumps(found, indent=2))
