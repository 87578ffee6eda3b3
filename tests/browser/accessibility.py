"""Accessibility checks for the browser tests: axe-core at WCAG 2.2 AA on the page as it is, a
screenshot kept beside each result, and whether the focused control shows its focus.

axe-core comes inside the `axe-playwright-python` wheel (its axe.min.js, pinned by
requirements/dev.lock): nothing is fetched at run time. It is evaluated through the DevTools
protocol, which the dashboard's Content-Security-Policy (no script at all) does not govern.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # no types

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_22_AA},
    "resultTypes": ["violations", "incomplete"],
}
AXE = Axe()


def axe_results(page: Any) -> dict[str, Any]:
    results: dict[str, Any] = AXE.run(page, options=AXE_OPTIONS).response
    return results


def described(violation: dict[str, Any]) -> str:
    """One violation as a reader needs it: the rule, its help, and each element it found."""
    nodes = "\n".join(
        f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}"
        for node in violation["nodes"]
    )
    return f"  {violation['id']} ({violation['impact']}): {violation['help']}\n{nodes}"


def needs_review(item: dict[str, Any]) -> dict[str, Any]:
    """What axe could not decide (a person looks): the rule and, per element, why."""
    nodes = [
        {"target": node["target"], "why": [check["message"] for check in node.get("any", [])]}
        for node in item["nodes"]
    ]
    return {"id": item["id"], "help": item["help"], "nodes": nodes}


def audit(page: Any, name: str, artifacts: Path) -> dict[str, Any]:
    """Screenshot the page to test-artifacts/a11y-NAME.png, run axe on it, keep the results in
    test-artifacts/axe/NAME.json, and fail naming every violation."""
    page.screenshot(path=str(artifacts / f"a11y-{name}.png"), full_page=True)
    results = axe_results(page)
    record = {
        "page": name,
        "url": page.url,
        "title": page.title(),
        "axe": results["testEngine"]["version"],
        "tags": WCAG_22_AA,
        "violations": results["violations"],
        "incomplete": [needs_review(item) for item in results["incomplete"]],
    }
    folder = artifacts / "axe"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    violations = results["violations"]
    assert not violations, f"axe, {name} ({page.url}):\n" + "\n".join(map(described, violations))
    return record


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute('name'),
    text: (el.innerText || el.value || '').trim().slice(0, 60),
    href: el.getAttribute('href'),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
    background: style.backgroundColor,
  };
}"""


def focused(page: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = page.evaluate(FOCUSED)
    return found


def focus_is_visible(state: dict[str, Any]) -> bool:
    """A solid outline of at least 2 px in a colour one can see, or a box shadow."""
    outline = (
        state["outlineStyle"] not in ("none", "hidden")
        and state["outlineWidth"] >= 2
        and state["outlineColor"] not in ("transparent", "rgba(0, 0, 0, 0)")
    )
    return outline or state["boxShadow"] != "none"
