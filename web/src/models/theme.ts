/**
 * The colour theme (issue 18): the system's (prefers-color-scheme), or light or dark as the user chose with
 * the header's switch. The choice is kept in localStorage, so it survives reloads and is the same in every tab,
 * and it is applied as data-theme on <html>, which the stylesheet's tokens follow.
 */
import { createModel, effect, signal } from "@preact/signals";

export type ThemeChoice = "system" | "light" | "dark";

const STORAGE_KEY = "edge-wallet.theme";
const ORDER: readonly ThemeChoice[] = ["system", "light", "dark"];

/** The stored choice, or "system" when none (or storage is unavailable, as in some private windows). */
export function storedTheme(): ThemeChoice {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

/** Sets data-theme on <html>; "system" removes it so the media query decides. */
export function applyTheme(choice: ThemeChoice): void {
  // Models are also created outside a page (the unit tests' small fake document has no root element).
  const root = typeof document === "undefined" ? undefined : (document.documentElement as HTMLElement | undefined);
  if (root === undefined) return;
  if (choice === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", choice);
}

/** Whether the page is dark now, whoever decided it (the chart reads this to pick its colours). */
export function isDark(choice: ThemeChoice): boolean {
  if (choice !== "system") return choice === "dark";
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
}

/** The theme of one app instance; `scheme` grows when the effective colours change, so charts can redraw. */
export const ThemeModel = createModel(() => {
  const choice = signal<ThemeChoice>(storedTheme());
  const scheme = signal(0);
  effect(() => {
    applyTheme(choice.value);
    scheme.value = scheme.peek() + 1;
  });
  // A change of the system's scheme matters only while the user follows it; the count tells charts to redraw.
  effect(() => {
    if (typeof matchMedia !== "function") return undefined;
    const query = matchMedia("(prefers-color-scheme: dark)");
    const follow = (): void => {
      scheme.value = scheme.peek() + 1;
    };
    query.addEventListener("change", follow);
    return () => query.removeEventListener("change", follow);
  });
  return {
    choice,
    scheme,
    /** The next choice in the switch's cycle (system, light, dark), stored. */
    cycle(): void {
      const next = ORDER[(ORDER.indexOf(choice.value) + 1) % ORDER.length] ?? "system";
      choice.value = next;
      try {
        if (next === "system") localStorage.removeItem(STORAGE_KEY);
        else localStorage.setItem(STORAGE_KEY, next);
      } catch {
        // Storage refused (a private window): the choice still holds for this page.
      }
    },
  };
});

export type ThemeModel = InstanceType<typeof ThemeModel>;
