// The npm registry this project installs from does not carry workerd's macOS and Windows builds, so
// `npm install` leaves them out of package-lock.json, and `npm ci` then refuses the lock file as out of sync
// ("Missing: @cloudflare/workerd-darwin-64"). This adds a lock entry for each missing platform build, marked
// optional with its `os` and `cpu`, so npm ci skips it on Linux without fetching it. Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = {
  "@cloudflare/workerd-darwin-64": { os: ["darwin"], cpu: ["x64"] },
  "@cloudflare/workerd-darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "@cloudflare/workerd-linux-64": { os: ["linux"], cpu: ["x64"] },
  "@cloudflare/workerd-linux-arm64": { os: ["linux"], cpu: ["arm64"] },
  "@cloudflare/workerd-windows-64": { os: ["win32"], cpu: ["x64"] },
};
const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
let added = 0;
for (const [location, entry] of Object.entries(lock.packages)) {
  if (!location.endsWith("node_modules/workerd")) continue;
  const base = location.slice(0, -"workerd".length);
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `${base}${name}`;
    const hoisted = `node_modules/${name}`;
    const present = lock.packages[target]?.version === version || lock.packages[hoisted]?.version === version;
    if (present || !(name in PLATFORMS)) continue;
    lock.packages[target] = { version, dev: true, license: "Apache-2.0", optional: true, ...PLATFORMS[name], engines: { node: ">=16" } };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.log(`lock-platforms: added ${added} platform entries`);
