/**
 * The two screens of a logged-in user, kept in the URL hash so the back button and bookmarks work without
 * the server knowing about client routes.
 */
import { createModel, effect, signal } from "@preact/signals";

export type Route = "wallet" | "audit" | "developers";

/** The route a hash names; hashes that are not routes (in-page anchors) leave the route as it is. */
function fromHash(current: Route): Route {
  if (location.hash === "#/audit") return "audit";
  if (location.hash === "#/developers") return "developers";
  if (location.hash === "" || location.hash === "#" || location.hash.startsWith("#/")) return "wallet";
  return current;
}

/**
 * The current route, following `hashchange`. The listener is added by an effect of the model, so disposing
 * the model removes it instead of leaving it on `window` for the life of the page.
 */
export const RouteModel = createModel(() => {
  const route = signal<Route>(fromHash("wallet"));
  effect(() => {
    const follow = (): void => {
      route.value = fromHash(route.peek());
    };
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  });
  return { route };
});

export type RouteModel = InstanceType<typeof RouteModel>;

export function hrefOf(target: Route): string {
  return target === "wallet" ? "#/" : `#/${target}`;
}
