"""Module, class and function sizes in lines (median, p90, max), for closing notes:
`python .ci/code_sizes.py [folder]` (default discussit/)."""

import ast
import statistics
import sys
from pathlib import Path


def sizes(root: Path) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {"modules": [], "classes": [], "functions": []}
    for path in sorted(root.rglob("*.py")):
        source = path.read_text()
        lines = len(source.splitlines())
        if not lines:
            continue
        found["modules"].append((lines, str(path)))
        for node in ast.walk(ast.parse(source)):
            size = (
                (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "lineno") else 0
            )
            if isinstance(node, ast.ClassDef):
                found["classes"].append((size, f"{path}:{node.name}"))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found["functions"].append((size, f"{path}:{node.name}"))
    return found


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "discussit")
    for label, rows in sizes(root).items():
        values = sorted(n for n, _ in rows)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        biggest = max(rows)
        print(
            f"{label}: {len(rows)}, median {statistics.median(values)}, p90 {p90}, "
            f"max {biggest[0]} ({biggest[1]})"
        )


if __name__ == "__main__":
    main()
