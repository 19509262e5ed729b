import { Layout } from '../../shared/layout.tsx';

/**
 * On the way to the identity provider. A page rather than a redirect: the sign-in form's
 * policy allows posting only to this site (CSP form-action, which browsers apply to the
 * redirects that follow a post too), so the browser leaves by a refresh, or the link.
 */
export function SsoRedirectPage(props: { location: string }) {
  return (
    <Layout title="Continuing to your identity provider" goTo={props.location}>
      <h1>Continuing to your identity provider</h1>
      <p>
        <a href={props.location} data-testid="sso-continue">
          Continue to your identity provider
        </a>
      </p>
    </Layout>
  );
}
