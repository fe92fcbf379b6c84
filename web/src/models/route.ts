/**
 * The two screens of a logged-in user, kept in the URL hash so the back button and bookmarks work without
 * the server knowing about client routes.
 */
import { signal } from "@preact/signals";

export type Route = "wallet" | "audit";

function fromHash(): Route {
  return location.hash === "#/audit" ? "audit" : "wallet";
}

export const route = signal<Route>(fromHash());

window.addEventListener("hashchange", () => {
  route.value = fromHash();
});

export function hrefOf(target: Route): string {
  return target === "audit" ? "#/audit" : "#/";
}
