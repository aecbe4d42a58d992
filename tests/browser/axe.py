"""The browser suite's accessibility check: axe-core, as shipped by the ``axe-playwright-python``
package (no axe file in this repository), run on the page Playwright has open.

axe is injected with ``page.evaluate`` (the DevTools protocol's ``Runtime.evaluate``), which a
page's Content-Security-Policy does not govern: the scan works under the strict CSP the site
sends. Only the WCAG 2.0 and 2.1 level A and AA rules run; any violation fails the test with
each rule's id, impact, help text and the elements it found."""

from axe_playwright_python.base import AXE_SCRIPT

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """async (options) => {
    const results = await axe.run(document, options);
    return results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
    }));
}"""


def axe_violations(page) -> list[dict]:
    """The WCAG 2.0/2.1 A and AA violations axe finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate(_RUN, {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})


def violations_report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    """Fail, listing every violation, when axe finds any WCAG 2.0/2.1 A or AA violation."""
    violations = axe_violations(page)
    assert not violations, (
        f"{len(violations)} accessibility rule(s) violated on {page.url}:\n{violations_report(violations)}"
    )
