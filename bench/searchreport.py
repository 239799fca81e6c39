"""The search phase's part of `bench/results/latest.md` (bench/search.py): search times on both
databases, and posting and the group page with the index against without it."""

from __future__ import annotations

from typing import Any

SEARCH_P99_MS = 50.0  # the first page of results, newest first (the default order)
WITH_INDEX = 1.2  # posting and the group page with the index, against without it


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def _times(name: str, phase: dict[str, Any]) -> list[str]:
    rows = [
        f"{name}: {phase['messages']:,} messages loaded in {phase['load_s']:.0f} s; the search "
        f"migration built and filled its index in **{phase['migration_s']:.1f} s**"
        + (
            f"; the file is {phase['size_mib']:.0f} MiB with the index, "
            f"{phase['size_without_mib']:.0f} MiB without."
            if "size_mib" in phase
            else "."
        ),
        "",
        "| search (first page of 20, over HTTP) | p50 ms | p99 ms | max ms | results (mean) |",
        "|---|---|---|---|---|",
    ]
    for kind, row in sorted(phase["searches"].items(), key=_order):
        rows.append(
            f"| {kind} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} | "
            f"{row['mean_results']:.1f} |"
        )
    return [*rows, ""]


KINDS = ("common", "rare", "phrase", "prefix", "two words", "elsewhere")


def _order(item: tuple[str, Any]) -> tuple[int, int]:
    kind, sort = item[0].split(" / ")
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), sort != "newest")


def worst_p99(
    phase: dict[str, Any], kinds: tuple[str, ...], orders: tuple[str, ...]
) -> tuple[str, float]:
    """The kind and order with the highest p99 among `kinds` asked in `orders`."""
    kind, row = max(
        (
            (k, r)
            for k, r in phase["searches"].items()
            if k.split(" / ")[0] in kinds and k.split(" / ")[1] in orders
        ),
        key=lambda item: item[1]["p99_ms"],
    )
    return kind, row["p99_ms"]


TARGET_KINDS = ("common", "rare", "phrase")  # the issue's: common words, rare words, phrases


def lines(results: dict[str, Any]) -> list[str]:
    search = results.get("search") or {}
    if not search:
        return []
    out = [
        f"Search: {search['sqlite']['messages']:,} messages in 100 groups (Zipf-distributed "
        "words, 3 to 12 a message, "
        "and each group's own topic words), searched by a member of 10 of them; kinds of "
        "search: common words, rare words, two-word phrases, the first letters of a word (as "
        "typed), two words, and words common only in groups the searcher is not in; each "
        "asked newest first (the default) and best first.",
        "",
    ]
    out += _times("SQLite (FTS5)", search["sqlite"])
    if "postgres" in search:
        out += _times("PostgreSQL (tsvector, GIN)", search["postgres"])
    posting = search["sqlite"].get("posting")
    if posting:
        without, with_ = posting["without index"], posting["with index"]
        page = search["sqlite"]["group_page"]
        out += [
            f"With the index against without it (SQLite, the same {search['sqlite']['messages']:,} "
            f"messages loaded, the servers taking turns): N = {with_['n']} pages, 10 messages/s, "
            f"{with_['delivered']:,}/"
            f"{with_['expected']:,} delivered with it; CPU per delivery "
            f"{without['cpu_us_per_delivery']:.1f} / {with_['cpu_us_per_delivery']:.1f} µs, p99 "
            f"{without['p99_ms']:.1f} / {with_['p99_ms']:.1f} ms; the group page p50 "
            f"{page['without index']['p50_ms']:.1f} / {page['with index']['p50_ms']:.1f} ms, "
            f"p99 {page['without index']['p99_ms']:.1f} / {page['with index']['p99_ms']:.1f} ms.",
            "",
        ]
    return [*out, *targets(search)]


def targets(search: dict[str, Any]) -> list[str]:
    """The search phase's targets: its own table (its ratios are not to the relay)."""
    rows = [
        "Search targets:",
        "",
        "| target | without the index | with it | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for name, key in (("SQLite", "sqlite"), ("PostgreSQL", "postgres")):
        if key not in search:
            continue
        for what, kinds, orders in (
            ("common words, rare words, phrases; newest first", TARGET_KINDS, ("newest",)),
            ("every kind, newest first and best first", KINDS, ("newest", "best")),
        ):
            kind, p99 = worst_p99(search[key], kinds, orders)
            rows.append(
                f"| search p99, first page ({name}; {what}; worst: {kind}) | | {p99:.1f} ms | | "
                f"≤ {SEARCH_P99_MS:.0f} ms: {_verdict(p99 <= SEARCH_P99_MS)} |"
            )
    posting = (search.get("sqlite") or {}).get("posting")
    if posting:
        without, with_ = posting["without index"], posting["with index"]
        page = search["sqlite"]["group_page"]
        for what, a, b, unit in (
            (
                "CPU per delivery, N = 100, with the search index / without",
                without["cpu_us_per_delivery"],
                with_["cpu_us_per_delivery"],
                "µs",
            ),
            (
                "p99 at N = 100, with the search index / without",
                without["p99_ms"],
                with_["p99_ms"],
                "ms",
            ),
            (
                "group page p99, with the search index / without",
                page["without index"]["p99_ms"],
                page["with index"]["p99_ms"],
                "ms",
            ),
        ):
            ratio = b / a if a else float("nan")
            rows.append(
                f"| {what} | {a:.1f} {unit} | {b:.1f} {unit} | **{ratio:.2f}x** | "
                f"≤ {WITH_INDEX}x: {_verdict(ratio <= WITH_INDEX)} |"
            )
    return [*rows, ""]
