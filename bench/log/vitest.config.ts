import { workerdBenchConfig } from "../workerd-bench-config";

/**
 * `npm run bench:log`: the transparency log's writer and proofs, measured inside workerd with the real
 * wrangler.toml bindings and the production limits (only the secrets are test values). Never part of `npm test`.
 */
export default await workerdBenchConfig("log", {
  LOG_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIHiBnf2fe-9waegk4UwDPFndnBiheODm645HZxz_-Tta",
  BENCH_LEAVES: process.env.BENCH_LEAVES ?? "1000000",
});
