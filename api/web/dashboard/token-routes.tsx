import type { Context } from 'hono';
import { plainText } from '../../../core/text.ts';
import { DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, scopesAllowedFor, tokenScopes } from '../../../core/token-scopes.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../../../services/accounts/api-tokens.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { TokensPage } from './pages/tokens.tsx';
import { notice } from './query.ts';

const TokenLabel = plainText(100);

async function tokensPage(
  c: Context<AppEnv>,
  extra: {
    created?: { name: string; token: string; expiresAt: string };
    notice?: string | undefined;
    error?: string;
  } = {},
  status = 200,
) {
  const principal = c.var.principal;
  const tokens = await listApiTokens(c.var.deps, principal, { all: principal.isOwner });
  return renderPage(
    c,
    <TokensPage
      principal={principal}
      csrf={csrfToken(c)}
      tokens={tokens.filter((t) => t.holder.userId === principal.userId)}
      staffTokens={principal.isOwner ? tokens.filter((t) => t.holder.userId !== principal.userId) : undefined}
      allowedScopes={scopesAllowedFor(c.var.principal)}
      {...extra}
    />,
    status,
  );
}

/**
 * Every staff member's own API tokens (not only owners': each token is its holder's).
 * Creating one is its own route, so a gate (a recent second factor, say) can stand in
 * front of exactly `POST /dashboard/tokens`. The form's scopes are checkboxes named
 * `scope:<scope>`, all of the holder's ticked at first.
 */
export function registerTokenPages(app: WebApp): void {
  app.get('/dashboard/tokens', (c) => tokensPage(c, { notice: notice(c) }));

  app.post('/dashboard/tokens', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const label = TokenLabel.safeParse(form.label ?? '');
    if (!label.success) return tokensPage(c, { error: 'Give the token a label of 1 to 100 characters.' }, 422);
    const days = Number(form.expiresInDays || DEFAULT_TOKEN_DAYS);
    if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
      return tokensPage(c, { error: `A token lasts 1 to ${MAX_TOKEN_DAYS} days.` }, 422);
    }
    const scopes = tokenScopes.filter((scope) => form[`scope:${scope}`]);
    if (scopes.length === 0) return tokensPage(c, { error: 'Choose at least one scope.' }, 422);
    const created = await createApiToken(
      c.var.deps,
      c.var.principal,
      { name: label.data, scopes, expiresInDays: days },
      c.var.requestId,
    );
    return tokensPage(c, { created }, 201);
  });

  app.post('/dashboard/tokens/:id/revoke', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await revokeApiToken(c.var.deps, c.var.principal, c.req.param('id'), c.var.requestId);
    return c.redirect('/dashboard/tokens?notice=token-revoked', 303);
  });
}
