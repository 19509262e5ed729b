/**
 * How a session was signed in, one row each. `strong` methods passed a second factor (or
 * a passkey, which is one) at sign-in: the session starts with a fresh step-up.
 */
export const signInMethodTable = {
  /** Password only (an account without a second factor). */
  password: { strong: false, label: 'Password' },
  /** Password, then a code from an authenticator app or a recovery code. */
  password_totp: { strong: true, label: 'Password and authenticator code' },
  /** Password, then a passkey as the second step. */
  password_passkey: { strong: true, label: 'Password and passkey' },
  /** A passkey: something held and something known or are, in one step. */
  passkey: { strong: true, label: 'Passkey' },
  /** The partner's identity provider (OpenID Connect). */
  sso: { strong: false, label: 'Single sign-on' },
  /** An account just made (sign-up, an offer's new admin, an accepted invitation). */
  new_account: { strong: false, label: 'New account' },
} as const;

export type SignInMethod = keyof typeof signInMethodTable;
export const signInMethods = Object.keys(signInMethodTable) as [SignInMethod, ...SignInMethod[]];
