// KEY=value lines, as `wrangler dev --env-file` reads them: the local secrets file of `npm start`.
import { existsSync, readFileSync } from "node:fs";

/** The variables in `file`, or none when it does not exist. */
export function readEnvFile(file) {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}
