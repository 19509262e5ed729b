import { Layout } from '../../shared/layout.tsx';

/** Behind the link in a sign-up email: confirms the address, and creates the organization on a click. */
export function SignupPage(props: { orgName: string; email: string; action: string; csrf: string }) {
  return (
    <Layout title="Confirm your organization">
      <h1>Create {props.orgName}</h1>
      <p>Your address {props.email} is confirmed by this link. Create the organization to continue with the offer.</p>
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit">Create the organization</button>
      </form>
    </Layout>
  );
}
