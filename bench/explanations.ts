/**
 * Why a target was missed, by the id of its row in the results table (bench/run.ts,
 * bench/operations.ts, bench/api.ts): written from a profile of the run that missed it
 * (`BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" npm run bench`), and printed with the
 * run's notes — in docs/benchmarks.md's generated section — whenever the target is missed
 * again. A missed target without an entry here gets a note asking for one.
 *
 * Ids: `campaign-default-k`, `campaign-k1` (campaign ≥ 0.80 × bare nodemailer at the default
 * MAIL_UNCONFIRMED_MAX, ≥ 0.35 at K = 1), `campaign-best-pool` (≥ 0.60 × the best bare
 * pool), `campaign-post` (the POST < 2 s), `large-rss`, `large-redis` (flat over the large
 * campaign), `operations` (≥ 0.50 × bare), `api-get-db` (≥ 0.85 × bare Hono + postgres.js),
 * `api-get-p99` (< 20 ms).
 */
export const explanations: Readonly<Record<string, string>> = {};
