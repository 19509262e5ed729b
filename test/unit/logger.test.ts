import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, serializeError } from '../../lib/logger.ts';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('error serialization', () => {
  it("drops a failed query's parameters from the error and its cause", () => {
    const cause = Object.assign(new Error('duplicate key'), { parameters: ['secret-b'], code: '23505' });
    const error = Object.assign(
      new Error('Failed query: insert into x values ($1)\nparams: secret-a,alice@example.com'),
      {
        query: 'insert into x values ($1)',
        params: ['secret-a', 'alice@example.com'],
        cause,
      },
    );
    const text = JSON.stringify(serializeError(error));
    expect(text).not.toContain('secret-a');
    expect(text).not.toContain('secret-b');
    expect(text).not.toContain('alice@example.com');
    expect(text).toContain('[2 parameters]');
    expect(text).toContain('insert into x values ($1)');
    expect(text).toContain('"pgCode":"23505"');
  });

  it('cuts very long messages', () => {
    const serialized = serializeError(new Error('x'.repeat(100_000)));
    expect((serialized.message as string).length).toBeLessThan(2100);
  });

  it('redacts secrets by key in every log line', () => {
    const out = capture();
    const logger = createLogger({ logLevel: 'info', logPretty: false }, out.stream);
    logger.info({ password: 'p4ss', token: 't0k', req: { headers: { authorization: 'Bearer abc' } } }, 'hello');
    expect(out.text()).toContain('hello');
    for (const secret of ['p4ss', 't0k', 'Bearer abc']) expect(out.text()).not.toContain(secret);
  });
});
