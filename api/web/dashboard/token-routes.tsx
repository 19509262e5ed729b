import type { Context } from 'hono';
import { plainText } from '../../../core/text.ts';
import { createOwnApiToken, listOwnApiTokens, revokeOwnApiToken } from '../../../services/accounts/api-tokens.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { TokensPage } from './pages/tokens.tsx';
import { notice } from './query.ts';

const TokenLabel = plainText(100);

async function tokensPage(
  c: Context<AppEnv>,
  extra: { created?: { label: string; token: string }; notice?: string | undefined; error?: string } = {},
  status = 200,
) {
  return renderPage(
    c,
    <TokensPage
      principal={c.var.principal}
      csrf={csrfToken(c)}
      tokens={await listOwnApiTokens(c.var.deps, c.var.principal)}
      {...extra}
    />,
    status,
  );
}

/**
 * Every staff member's own API tokens (not only owners': each token is its holder's).
 * Creating one is its own route, so a gate (a recent second factor, say) can stand in
 * front of exactly `POST /dashboard/tokens`.
 */
export function registerTokenPages(app: WebApp): void {
  app.get('/dashboard/tokens', (c) => tokensPage(c, { notice: notice(c) }));

  app.post('/dashboard/tokens', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const label = TokenLabel.safeParse(form.label ?? '');
    if (!label.success) return tokensPage(c, { error: 'Give the token a label of 1 to 100 characters.' }, 422);
    const created = await createOwnApiToken(c.var.deps, c.var.principal, label.data, c.var.requestId);
    return tokensPage(c, { created }, 201);
  });

  app.post('/dashboard/tokens/:id/revoke', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await revokeOwnApiToken(c.var.deps, c.var.principal, c.req.param('id'), c.var.requestId);
    return c.redirect('/dashboard/tokens?notice=token-revoked', 303);
  });
}
