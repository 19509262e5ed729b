/** `npm run worker`: the background workers alone. Run as many as you like. */
import { createMetricsApp } from '../api/metrics.ts';
import { type RunningServer, startServer } from '../api/server.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { closeDeps, createDeps } from '../lib/deps.ts';
import { resolveQueueBackend } from '../lib/queues/transport.ts';
import { onShutdown } from '../lib/shutdown.ts';
import { startWorkers } from '../workers/run.ts';

const config = await resolveQueueBackend(loadConfigOrExit());
const deps = createDeps(config);
const workers = await startWorkers(deps).catch((error: unknown) => {
  deps.logger.fatal({ err: error }, error instanceof Error ? error.message : 'workers could not start');
  process.exit(1);
});
// This process has no API: with METRICS_PORT it serves its own /metrics.
let metrics: RunningServer | undefined;
if (config.metricsPort !== undefined) {
  metrics = await startServer(createMetricsApp(deps), { host: config.host, port: config.metricsPort }).catch(
    (error: unknown) => {
      deps.logger.fatal({ err: error, port: config.metricsPort }, 'could not serve /metrics on METRICS_PORT');
      process.exit(1);
    },
  );
}
deps.logger.info({ pid: process.pid, ...(metrics ? { metrics: `${metrics.url}/metrics` } : {}) }, 'workers running');
onShutdown(deps.logger, async () => {
  await metrics?.close();
  await workers.close();
  await closeDeps(deps);
});
