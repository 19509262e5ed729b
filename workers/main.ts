/** `npm run worker`: the background workers alone. Run as many as you like. */
import { loadConfigOrExit } from '../lib/config.ts';
import { closeDeps, createDeps } from '../lib/deps.ts';
import { onShutdown } from '../lib/shutdown.ts';
import { startWorkers } from './run.ts';

const config = loadConfigOrExit();
const deps = createDeps(config);
const workers = await startWorkers(deps).catch((error: unknown) => {
  deps.logger.fatal({ err: error }, error instanceof Error ? error.message : 'workers could not start');
  process.exit(1);
});
deps.logger.info({ pid: process.pid }, 'workers running');
onShutdown(deps.logger, async () => {
  await workers.close();
  await closeDeps(deps);
});
