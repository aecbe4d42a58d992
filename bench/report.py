"""The table printed at the end: every row's figure, the issue's goal, the ratio, pass or fail."""

from dataclasses import dataclass, field


@dataclass
class Row:
    key: str
    what: str
    figure: str = "not yet measured"
    goal: str = ""
    ratio: str = ""
    passed: bool | None = None
    violations: list[str] = field(default_factory=list)  # correctness: oversold, lost, duplicate, 5xx

    @property
    def verdict(self) -> str:
        if self.violations:
            return "VIOLATION"
        if self.passed is None:
            return "-"
        return "pass" if self.passed else "fail"


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def table(rows: list[Row]) -> str:
    head = ("row", "what", "figure", "goal", "ratio", "result")
    body = [(r.key, r.what, r.figure, r.goal, r.ratio, r.verdict) for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    for r in rows:
        for v in r.violations:
            lines.append(f"  ({r.key}) VIOLATION: {v}")
    return "\n".join(lines)
