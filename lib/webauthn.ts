import { createHash, randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { Config } from './config.ts';

/**
 * The WebAuthn relying party: this site. Its id is PUBLIC_URL's host name (browsers refuse
 * an IP address there), and the only origin accepted is PUBLIC_URL's.
 */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export function relyingParty(config: Pick<Config, 'publicUrl'>): RelyingParty {
  const url = new URL(config.publicUrl);
  return { id: url.hostname, origin: url.origin, name: 'Mandate' };
}

export type { AuthenticationResponseJSON, RegistrationResponseJSON };
export type PasskeyCreationOptions = PublicKeyCredentialCreationOptionsJSON;
export type PasskeyRequestOptions = PublicKeyCredentialRequestOptionsJSON;

const b64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/)
  .max(16_384);

const assertionShape = z.object({
  id: b64url.min(1).max(1400),
  rawId: b64url,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
});

const attestationShape = z.object({
  id: b64url.min(1).max(1400),
  rawId: b64url,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(20)).max(10).optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
});

const clientDataShape = z.object({ type: z.string(), challenge: z.string().max(200), origin: z.string().max(500) });

/** What the browser says it signed: the kind of request, the challenge and the page's origin. */
export type ClientData = z.infer<typeof clientDataShape>;

function readClientData(clientDataJSON: string): ClientData | null {
  try {
    const parsed = clientDataShape.safeParse(JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A sign-in answer read, before any check: its parts, to look up what to check it against. */
export interface ReadAssertion {
  response: AuthenticationResponseJSON;
  credentialId: string;
  clientData: ClientData;
  /** The authenticator data's RP ID hash matches this relying party's id. */
  rpIdMatches: boolean;
  /** The signature counter the authenticator reports. */
  signCount: number;
  /** The user flag "verified" (a PIN, a fingerprint) in the authenticator data. */
  userVerified: boolean;
}

const rpIdHash = (rpId: string) => createHash('sha256').update(rpId).digest();

/** A passkey's answer to a sign-in challenge, as posted (JSON text), read; null when it is not one. */
export function readAssertion(rp: RelyingParty, json: string): ReadAssertion | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = assertionShape.safeParse(value);
  if (!parsed.success) return null;
  const clientData = readClientData(parsed.data.response.clientDataJSON);
  const authData = Buffer.from(parsed.data.response.authenticatorData, 'base64url');
  // rpIdHash (32) · flags (1) · signCount (4, big-endian) · …
  if (!clientData || authData.length < 37) return null;
  const flags = authData[32] as number;
  return {
    response: parsed.data as AuthenticationResponseJSON,
    credentialId: parsed.data.id,
    clientData,
    rpIdMatches: authData.subarray(0, 32).equals(rpIdHash(rp.id)),
    signCount: authData.readUInt32BE(33),
    userVerified: (flags & 0x04) !== 0,
  };
}

/** A passkey's answer to a registration challenge, read; null when it is not one. */
export function readAttestation(
  json: string,
): { response: RegistrationResponseJSON; credentialId: string; clientData: ClientData } | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = attestationShape.safeParse(value);
  if (!parsed.success) return null;
  const clientData = readClientData(parsed.data.response.clientDataJSON);
  if (!clientData) return null;
  return { response: parsed.data as RegistrationResponseJSON, credentialId: parsed.data.id, clientData };
}

/** A new random challenge, 32 bytes. */
const newChallenge = () => new Uint8Array(randomBytes(32));

/**
 * The browser's options to create a passkey for a user: a discoverable credential (so it
 * can sign in alone), the user's passkeys excluded (no second registration of one device).
 * `userHandle` is what the authenticator stores and gives back at sign-in: the user's id.
 */
export function registrationOptions(
  rp: RelyingParty,
  user: { id: string; email: string; displayName: string },
  exclude: { credentialId: string; transports: string[] }[],
): Promise<PasskeyCreationOptions> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: new TextEncoder().encode(user.id),
    userName: user.email,
    userDisplayName: user.displayName,
    challenge: newChallenge(),
    attestationType: 'none',
    excludeCredentials: exclude.map((c) => ({ id: c.credentialId, transports: c.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    timeout: 120_000,
  });
}

/** The browser's options to sign in: any passkey of this site (`allow` empty), or one of the listed ones. */
export function authenticationOptions(
  rp: RelyingParty,
  allow: { credentialId: string; transports: string[] }[],
  userVerification: 'required' | 'preferred',
): Promise<PasskeyRequestOptions> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: newChallenge(),
    allowCredentials: allow.map((c) => ({ id: c.credentialId, transports: c.transports })),
    userVerification,
    timeout: 120_000,
  });
}

/** A new passkey, checked: its id, public key (base64url), counter and transports. */
export interface VerifiedCredential {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
}

/**
 * Checks a registration answer against its challenge, this origin and this RP id; the
 * library's reason when it fails (for the log, not the person).
 */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  challenge: string,
): Promise<{ ok: true; credential: VerifiedCredential } | { ok: false; error: string }> {
  try {
    const verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // A passkey that signs in alone is asked for verification at sign-in, not here: a
      // security key without a PIN can still be a second step.
      requireUserVerification: false,
    });
    if (!verified.verified) return { ok: false, error: 'not verified' };
    const { credential } = verified.registrationInfo;
    return {
      ok: true,
      credential: {
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        signCount: credential.counter,
        transports: credential.transports ?? [],
      },
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Checks a sign-in answer's signature (and again its challenge, origin, RP id, counter
 * and flags) against the stored passkey; the library's reason when it fails.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  read: ReadAssertion,
  challenge: string,
  stored: { credentialId: string; publicKey: string; signCount: number },
  requireUserVerification: boolean,
): Promise<{ ok: true; signCount: number } | { ok: false; error: string }> {
  try {
    const verified = await verifyAuthenticationResponse({
      response: read.response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: stored.credentialId,
        publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
        counter: stored.signCount,
      },
      requireUserVerification,
    });
    return verified.verified
      ? { ok: true, signCount: verified.authenticationInfo.newCounter }
      : { ok: false, error: 'not verified' };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
