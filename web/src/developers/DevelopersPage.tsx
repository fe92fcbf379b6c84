/**
 * The Developers page: what an integrator needs, as a list of independent sections. Each section owns its
 * model and its requests; adding one (webhook endpoints, the event log) is one more entry in SECTIONS.
 */
import type { FunctionComponent } from "preact";
import { ApiKeysSection } from "./ApiKeysSection";
import { EventsSection } from "./EventsSection";
import { WebhooksSection } from "./WebhooksSection";
import "./developers.css";

/** The page's sections, in order. */
export const SECTIONS: readonly FunctionComponent[] = [ApiKeysSection, WebhooksSection, EventsSection];

export function DevelopersPage() {
  return (
    <main id="main" tabIndex={-1} class="developers" data-testid="developers">
      <h1 class="page-title">Developers</h1>
      {SECTIONS.map((Section, i) => (
        <Section key={i} />
      ))}
    </main>
  );
}
