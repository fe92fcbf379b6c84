// @ts-check
// Accessibility checks for the browser tests (issue 18): axe-core runs on the page as it stands, once in the light
// colour scheme and once in the dark, and the test fails on any serious or critical violation. The flows call it
// at each screen they already reach, so the check costs no extra navigation.
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";

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
    // WCAG A and AA rules only, and violations only (no list of passes): about half the time of a full run.
    const builder = new AxeBuilder({ page })
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .options({ resultTypes: ["violations"] });
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
