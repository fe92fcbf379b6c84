// @ts-check
// The one way the browser tests start Chromium: Debian's build (playwright-core downloads none), with the flags
// this machine needs (no sandbox as root, no GPU, and no background networking, which the closed network refuses).
import { chromium } from "playwright-core";

/** Debian's Chromium, where `.ci/run` installs it. */
export const CHROMIUM = "/usr/bin/chromium";

/** A headless Chromium for one test file. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}
