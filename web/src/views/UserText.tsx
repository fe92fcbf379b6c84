/**
 * Text another person wrote, on this screen: neutralised (../text.ts) and isolated in a <bdi>, whose
 * `unicode-bidi: isolate` ends any direction change inside it at its own edge, in a box that clips what
 * overflows it (styles.css, `.user-text`). `block` lets a long text wrap (a detail view); otherwise it stays
 * on one line and ends in an ellipsis (a list row).
 */
import { displayText } from "../text";

/** One piece of user-written text, safe to place in any row. */
export function UserText({ text, block = false }: { text: string; block?: boolean }) {
  return (
    <bdi class={block ? "user-text block" : "user-text"} dir="auto" title={block ? undefined : displayText(text)}>
      {displayText(text)}
    </bdi>
  );
}
