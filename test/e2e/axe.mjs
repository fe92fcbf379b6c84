// @ts-check
// Accessibility checks for the browser tests (issue 18): axe-core runs on the page as it stands, in the light
// colour scheme (every WCAG A/AA rule) and in the dark (the colour rules), and the test fails on any serious or
// critical violation. The flows call it at each screen they already reach, so the check costs no extra navigation.
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";

/** The rules whose verdict can change with the colour scheme. */
const COLOUR_RULES = ["color-contrast", "link-in-text-block"];

/** The impacts that fail a test; moderate and minor ones are printed by the caller if it wants them. */
const FAILING = new Set(["serious", "critical"]);

/**
 * Runs axe on `page` in light and then dark colour schemes (as the system would ask; the app follows it unless
 * the user picked a theme) and asserts that nothing serious or critical is found. The page is left in the scheme
 * it had before.
 * @param {import("playwright-core").Page} page
 * @param {string} screen what the page shows, for the failure message
 * @param {{ include?: string }} [options] a selector to limit the check to (a dialog, say)
 */
export async function assertAccessible(page, screen, { include } = {}) {
  for (const colorScheme of /** @type {const} */ (["light", "dark"])) {
    await page.emulateMedia({ colorScheme });
    // Violations only (no list of passes). The light run checks every WCAG A and AA rule; a colour scheme only
    // changes colours, so the dark run checks only the rules that depend on them, which costs far less.
    const builder = new AxeBuilder({ page }).options({ resultTypes: ["violations"] });
    if (colorScheme === "light") builder.withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]);
    else builder.withRules(COLOUR_RULES);
    if (include !== undefined) builder.include(include);
    const results = await builder.analyze();
    const failing = results.violations.filter((v) => FAILING.has(v.impact ?? ""));
    const described = failing.map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n${v.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target.join(" ")} ${n.failureSummary?.replace(/\s+/g, " ") ?? ""}`)
          .join("\n")}`,
    );
    assert.deepEqual(described, [], `axe on ${screen} (${colorScheme}):\n${described.join("\n")}`);
  }
  await page.emulateMedia({ colorScheme: null });
}
