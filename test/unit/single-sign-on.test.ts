import { describe, expect, it } from 'vitest';
import { checkIssuerUrl, classifyCallbackError, emailDomainOf, ssoRefusalMessage } from '../../core/single-sign-on.ts';

describe('checkIssuerUrl', () => {
  it('takes https anywhere and plain http on loopback only', () => {
    expect(checkIssuerUrl('https://login.example.com/tenant/v2.0')).toMatchObject({ insecureLoopback: false });
    for (const local of ['http://localhost:8080', 'http://127.0.0.1:9000/realms/x', 'http://[::1]:3000']) {
      expect(checkIssuerUrl(local)).toMatchObject({ insecureLoopback: true });
    }
    for (const remote of [
      'http://idp.example.com',
      'http://10.0.0.5',
      'http://localhost.evil.example',
      'http://127.0.0.2',
    ]) {
      expect(checkIssuerUrl(remote)).toEqual({ reason: 'must start with https:// (plain http only for localhost)' });
    }
  });

  it('takes no plain http at all in production', () => {
    expect(checkIssuerUrl('http://localhost:8080', { allowLoopbackHttp: false })).toEqual({
      reason: 'must start with https://',
    });
    expect(checkIssuerUrl('https://idp.example.com', { allowLoopbackHttp: false })).toHaveProperty('url');
  });

  it('refuses what is not an issuer identifier', () => {
    expect(checkIssuerUrl('idp.example.com')).toEqual({ reason: 'is not a URL' });
    expect(checkIssuerUrl('ftp://idp.example.com')).toEqual({ reason: 'must start with https://' });
    for (const odd of ['https://u:p@idp.example.com', 'https://idp.example.com/?x=1', 'https://idp.example.com/#f']) {
      expect(checkIssuerUrl(odd)).toHaveProperty('reason');
    }
  });
});

describe('emailDomainOf', () => {
  it('is the part after the last @, lower-cased', () => {
    expect(emailDomainOf('Ada@Contoso.COM')).toBe('contoso.com');
    expect(emailDomainOf('"a@b"@contoso.com')).toBe('contoso.com');
    expect(emailDomainOf('no-at-sign')).toBeNull();
    expect(emailDomainOf('@contoso.com')).toBeNull();
    expect(emailDomainOf('ada@')).toBeNull();
  });
});

describe('classifyCallbackError', () => {
  const libraryError = (cause: string) => new Error('invalid response encountered', { cause: new Error(cause) });
  it("names the check that failed from the library's error", () => {
    expect(classifyCallbackError(libraryError('unexpected "state" response parameter value'))).toBe('state_mismatch');
    expect(classifyCallbackError(libraryError('unexpected ID Token "nonce" claim value'))).toBe('nonce_mismatch');
    expect(classifyCallbackError(libraryError('unexpected "iss" (issuer) response parameter value'))).toBe(
      'issuer_mismatch',
    );
    const denied = Object.assign(new Error('authorization response from the server is an error'), {
      name: 'AuthorizationResponseError',
    });
    expect(classifyCallbackError(denied)).toBe('provider_error');
    expect(classifyCallbackError(new Error('server responded with an error in the response body'))).toBe(
      'invalid_response',
    );
    expect(classifyCallbackError('not an error')).toBe('invalid_response');
  });
});

describe('ssoRefusalMessage', () => {
  it('names the partner where the message has a place for it', () => {
    expect(ssoRefusalMessage('no_account', 'Fabrikam IT')).toBe(
      'There is no staff account for this address at Fabrikam IT; ask an owner to add you.',
    );
    expect(ssoRefusalMessage('no_account')).toContain('at your organization;');
  });
});
