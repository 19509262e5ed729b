/** `npm run api`: the HTTP API alone (production runs workers as separate processes). */

import { createApp } from '../api/app.ts';
import { startServer } from '../api/server.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { closeDeps, createDeps } from '../lib/deps.ts';
import { resolveQueueBackend } from '../lib/queues/transport.ts';
import { onShutdown } from '../lib/shutdown.ts';

const config = await resolveQueueBackend(loadConfigOrExit(process.env, { servesHttp: true }));
const deps = createDeps(config);
const server = await startServer(createApp(deps), config);
deps.logger.info({ url: server.url, publicUrl: config.publicUrl }, 'API listening');
onShutdown(deps.logger, async () => {
  await server.close();
  await closeDeps(deps);
});
