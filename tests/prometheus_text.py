"""Reading Prometheus text exposition in tests: what a scraper would see, sample by sample."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A label value is quoted and may hold braces (`route="/cases/{referral_id}"`) or escapes.
_VALUE = r'"(?:[^"\\]|\\.)*"'
SAMPLE = re.compile(rf"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{(?:[^\"}}]|{_VALUE})*\}})? (\S+)$")
LABEL = re.compile(rf"(\w+)=({_VALUE})")


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str) -> list[Sample]:
    """Every sample line (comments and blank lines skipped); a malformed line fails."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = {k: _unquoted(v) for k, v in LABEL.findall(match.group(2) or "")}
        samples.append(Sample(match.group(1), labels, float(match.group(3))))
    return samples


def _unquoted(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value[1:-1])


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )
