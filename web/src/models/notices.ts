/**
 * Short messages about things that happened outside any form, such as a saved request that finally went
 * through after a reload. The view shows them in a polite live region so screen readers announce them.
 */
import { signal } from "@preact/signals";

export interface Notice {
  id: number;
  text: string;
  tone: "ok" | "error";
}

export const notices = signal<Notice[]>([]);

let nextId = 1;
const MAX_NOTICES = 5;

export function pushNotice(text: string, tone: Notice["tone"]): void {
  notices.value = [...notices.value, { id: nextId++, text, tone }].slice(-MAX_NOTICES);
}

export function dismissNotice(id: number): void {
  notices.value = notices.value.filter((notice) => notice.id !== id);
}
