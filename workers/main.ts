/** `npm run worker`: the background workers alone. Run as many as you like. */
import { loadConfigOrExit } from '../lib/config.ts';
import { closeDeps, createDeps } from '../lib/deps.ts';
import { onShutdown } from '../lib/shutdown.ts';
import { startWorkers } from './run.ts';

const config = loadConfigOrExit();
const deps = createDeps(config);
const workers = await startWorkers(deps);
deps.logger.info({ pid: process.pid }, 'workers running');
onShutdown(deps.logger, async () => {
  await workers.close();
  await closeDeps(deps);
});
