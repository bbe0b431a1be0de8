/**
 * The `node` flags every worker process runs with: `npm start` (src/start.ts), the cluster
 * harness (temporal/cluster/dripline.ts), the Dockerfile's CMD and docker-compose's worker
 * command. test/cluster/settings.test.ts keeps the last two, which cannot import this, in step.
 *
 * A worker has two V8 heaps (the main thread with the activities and the SDK's core, and the
 * workflow thread), and what a busy worker allocates is mostly short-lived. With V8's defaults
 * each heap lets its young generation grow to 3 × 16 MiB and its old generation grow by up to 4×
 * between full collections, so one worker's RSS swung between about 360 and 550 MiB with the same
 * live data (bench/results/cluster.md).
 *
 * - `--max-semi-space-size=4` (MiB) keeps the young generations small; 2 MiB was worse, as more
 *   survivors were promoted into the old generation.
 * - `--heap-growing-percent=30` lets the old generation grow by 30 % between full collections.
 *   Unlike a heap limit (`--max-old-space-size`, which did the same here) it cannot make a worker
 *   run out of memory.
 *
 * bench:worker-memory measured them side by side (bench/results/worker-memory.md): with both,
 * a worker peaked at 257 MiB where one in the same run with the first flag alone peaked at 349 MiB
 * (and workers with no flags at 398–418 MiB in the runs before), for about 5 % fewer workflow
 * tasks per CPU second.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=30'];
