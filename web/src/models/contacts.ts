/**
 * People to suggest in the send and request forms (GET /me/contacts). Suggestions are a convenience: every
 * failure, including a server that does not have the route yet (404), leaves the list empty and the forms work
 * exactly as without it.
 */
import { createModel, effect, signal } from "@preact/signals";
import { api } from "../api";
import type { Contact, ContactsBody } from "../types";

/** How many people are suggested (the contract allows 1..50). */
export const CONTACTS_LIMIT = 20;

/** The suggestions of one app instance. */
export const ContactsModel = createModel(() => {
  const contacts = signal<Contact[]>([]);
  let generation = 0;

  effect(() => () => {
    generation += 1;
  });

  return {
    contacts,
    /** Loads the suggestions again (after login and after the user paid or asked someone new). */
    async load(): Promise<void> {
      const at = ++generation;
      const result = await api<ContactsBody>("GET", `/me/contacts?limit=${CONTACTS_LIMIT}`);
      if (at !== generation) return;
      const items =
        result.ok && typeof result.data === "object" && result.data !== null && Array.isArray(result.data.items) ? result.data.items : [];
      contacts.value = items.filter((c) => typeof c.handle === "string");
    },
    /** Forgets them, on logout. */
    clear(): void {
      generation += 1;
      contacts.value = [];
    },
  };
});

export type ContactsModel = InstanceType<typeof ContactsModel>;
