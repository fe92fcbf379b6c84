/**
 * Short messages about things that happened outside any form, such as a saved request that finally went
 * through after a reload. The view shows them in a polite live region so screen readers announce them.
 */
import { createModel, signal } from "@preact/signals";

export interface Notice {
  id: number;
  text: string;
  tone: "ok" | "error";
}

const MAX_NOTICES = 5;

/** The notices of one app instance; it owns no effects or timers, so disposing it only drops the list. */
export const NoticesModel = createModel(() => {
  const notices = signal<Notice[]>([]);
  let nextId = 1;
  return {
    notices,
    pushNotice(text: string, tone: Notice["tone"]): void {
      notices.value = [...notices.value, { id: nextId++, text, tone }].slice(-MAX_NOTICES);
    },
    dismissNotice(id: number): void {
      notices.value = notices.value.filter((notice) => notice.id !== id);
    },
  };
});

export type NoticesModel = InstanceType<typeof NoticesModel>;
