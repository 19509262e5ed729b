import type { SaveSsoInput, SsoSettingsView } from '../../../../services/accounts/single-sign-on-settings.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute } from '../../shared/format.ts';
import { DashboardLayout } from './layout.tsx';

/** The partner's identity provider for its staff's sign-in (owners only). */
export function SsoSettingsPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  settings: SsoSettingsView;
  /** What was typed, when a save is refused (never the secret). */
  typed?: Omit<SaveSsoInput, 'clientSecret'> | undefined;
  error?: string | undefined;
  notice?: string | undefined;
}) {
  const { provider, redirectUri } = props.settings;
  const shown = props.typed ?? provider;
  return (
    <DashboardLayout
      title="Single sign-on"
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/single-sign-on"
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <section class="card">
        <h2>Your staff sign in through your identity provider</h2>
        <p>
          Register Mandate at your OpenID Connect provider as a confidential web application (authorization code flow
          with PKCE, scopes <code>openid email</code>) with this redirect URI:
        </p>
        <p>
          <code data-testid="sso-redirect-uri">{redirectUri}</code>
        </p>
        <p class="muted">
          Staff whose address is at the domain below then choose “Continue with single sign-on” on the sign-in page. The
          first time, their account here is linked to their account at the provider — only if the provider says the
          address is verified. No account is created: add staff on the Staff page first. Staff with two-factor sign-in
          still enter their code after the provider.
        </p>
        {provider ? (
          <p data-testid="sso-status">
            {provider.enabled ? 'Single sign-on is on.' : 'Single sign-on is off.'}
            {provider.secretReadable ? '' : ' The saved client secret can no longer be read: enter it again.'}
          </p>
        ) : (
          <p data-testid="sso-status">Single sign-on is not set up.</p>
        )}
        {provider ? (
          <form method="post" action="/dashboard/single-sign-on/enabled" class="inline">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="enabled" value={provider.enabled ? 'off' : 'on'} />
            <button type="submit" class="secondary">
              {provider.enabled ? 'Turn single sign-on off' : 'Turn single sign-on on'}
            </button>
          </form>
        ) : null}
      </section>
      {provider ? (
        <section class="card">
          <h2>{`Prove you hold ${provider.emailDomain}`}</h2>
          {provider.domainProof.verifiedAt ? (
            <p class="ok" data-testid="sso-domain-status">
              {`Proven on ${utcMinute(provider.domainProof.verifiedAt)} UTC: staff at ${provider.emailDomain} can sign in here.`}
            </p>
          ) : (
            <p class="notice" data-testid="sso-domain-status">
              Not proven yet: until it is, single sign-on does not start for this domain (naming a domain claims
              nothing). Publish this TXT record in the domain's DNS, then check.
            </p>
          )}
          <dl class="facts">
            <dt>Name</dt>
            <dd>
              <code data-testid="sso-txt-name">{provider.domainProof.name}</code>
            </dd>
            <dt>Value</dt>
            <dd>
              <code data-testid="sso-txt-value">{provider.domainProof.value}</code>
            </dd>
          </dl>
          {provider.domainProof.verifiedAt ? null : (
            <form method="post" action="/dashboard/single-sign-on/verify" class="inline">
              <input type="hidden" name="csrf" value={props.csrf} />
              <button type="submit">Check the record</button>
            </form>
          )}
        </section>
      ) : null}
      <section class="card">
        <h2>{provider ? 'Change the provider' : 'Set up the provider'}</h2>
        <form method="post" action="/dashboard/single-sign-on" class="filters">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label>
            Issuer URL
            <input type="url" name="issuer" required maxlength={500} size={40} value={shown?.issuer ?? ''} />
          </label>
          <label>
            Client ID
            <input type="text" name="clientId" required maxlength={255} value={shown?.clientId ?? ''} />
          </label>
          <label>
            {provider ? 'Client secret (leave empty to keep the saved one)' : 'Client secret'}
            <input type="password" name="clientSecret" autocomplete="off" maxlength={1000} required={!provider} />
          </label>
          <label>
            Staff email domain
            <input type="text" name="emailDomain" required maxlength={253} value={shown?.emailDomain ?? ''} />
          </label>
          <button type="submit">Save</button>
        </form>
        <p class="muted">
          Saving fetches the issuer's discovery document (<code>/.well-known/openid-configuration</code>): the issuer
          must use https (plain http only on this machine, for testing).
        </p>
      </section>
    </DashboardLayout>
  );
}
