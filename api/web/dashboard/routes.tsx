import type { App } from '../../env.ts';
import { renderPage } from '../context.ts';
import { MessagePage } from '../pages/layout.tsx';
import { loadViewer } from '../viewer.ts';
import { requireStaffSession } from './access.ts';

/** The operator dashboard under /dashboard: partner staff only. */
export function registerDashboard(app: App): void {
  app.use('/dashboard', loadViewer, requireStaffSession);
  app.use('/dashboard/*', loadViewer, requireStaffSession);
  app.get('/dashboard', (c) => renderPage(c, <MessagePage title="Dashboard" message="Coming" />));
}
