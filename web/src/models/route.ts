/**
 * The two screens of a logged-in user, kept in the URL hash so the back button and bookmarks work without
 * the server knowing about client routes.
 */
import { signal } from "@preact/signals";

export type Route = "wallet" | "audit";

/** The route a hash names; hashes that are not routes (in-page anchors) leave the route as it is. */
function fromHash(current: Route): Route {
  if (location.hash === "#/audit") return "audit";
  if (location.hash === "" || location.hash === "#" || location.hash.startsWith("#/")) return "wallet";
  return current;
}

export const route = signal<Route>(fromHash("wallet"));

window.addEventListener("hashchange", () => {
  route.value = fromHash(route.value);
});

export function hrefOf(target: Route): string {
  return target === "audit" ? "#/audit" : "#/";
}
