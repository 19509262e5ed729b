import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A passkey authenticator in Node, for tests without a browser: an ES256 key pair made
 * with node:crypto, answering WebAuthn registration (attestation format `none`) and
 * sign-in challenges as a platform authenticator that verifies its user would. Every
 * part of an answer can be bent (origin, counter, challenge, flags) to make the bad
 * inputs a server must refuse.
 */

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 256) return Buffer.from([(major << 5) | 24, value]);
  if (value < 65536) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(value, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

/** Just enough CBOR (RFC 8949) for an attestation object and a COSE key. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64url = (data: Buffer | Uint8Array) => Buffer.from(data).toString('base64url');

/** What a test may change in an answer. */
export interface AnswerOptions {
  /** The page's origin in clientDataJSON (default: the authenticator's). */
  origin?: string;
  /** The RP id whose hash goes into the authenticator data (default: the authenticator's). */
  rpId?: string;
  /** The signature counter to report (default: one more than the last). */
  signCount?: number;
  /** Whether the user-verified flag is set (default: true). */
  userVerified?: boolean;
  /** Another clientDataJSON type (default: `webauthn.get` / `webauthn.create`). */
  type?: string;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  signCount = 0;

  constructor(
    readonly origin: string,
    readonly rpId = new URL(origin).hostname,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  #coseKey(): Buffer {
    const jwk = this.#publicKey.export({ format: 'jwk' });
    const x = Buffer.from(String(jwk.x), 'base64url');
    const y = Buffer.from(String(jwk.y), 'base64url');
    return cbor(
      new Map<Cbor, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, x],
        [-3, y],
      ]),
    );
  }

  #authData(flags: number, signCount: number, rpId: string, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(signCount);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** The answer to registration options (what @simplewebauthn/browser's startRegistration returns). */
  register(options: { challenge: string }, bent: AnswerOptions = {}): string {
    const clientData = Buffer.from(
      JSON.stringify({
        type: bent.type ?? 'webauthn.create',
        challenge: options.challenge,
        origin: bent.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.#coseKey()]);
    const uv = bent.userVerified ?? true;
    // UP, UV, AT (attested credential data included)
    const authData = this.#authData(0x01 | (uv ? 0x04 : 0) | 0x40, this.signCount, bent.rpId ?? this.rpId, attested);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    });
  }

  /** The answer to sign-in options (what startAuthentication returns), signed by this key. */
  answer(options: { challenge: string }, userId: string | null, bent: AnswerOptions = {}): string {
    const signCount = bent.signCount ?? this.signCount + 1;
    this.signCount = Math.max(this.signCount, signCount);
    const clientData = Buffer.from(
      JSON.stringify({
        type: bent.type ?? 'webauthn.get',
        challenge: options.challenge,
        origin: bent.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
    const uv = bent.userVerified ?? true;
    const authData = this.#authData(0x01 | (uv ? 0x04 : 0), signCount, bent.rpId ?? this.rpId);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#privateKey);
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userId ? { userHandle: b64url(Buffer.from(userId)) } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    });
  }
}
