import { describe, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';
import { receiveBounce } from '../../services/campaigns/bounces.ts';
import { bounceReport } from '../helpers/bounce-report.ts';

const logger = { info() {}, warn() {} } as unknown as Logger;
/** A database whose every transaction fails with `code` (as postgres.js reports SQLSTATE). */
const failingDb = (code: string) =>
  ({ transaction: () => Promise.reject(Object.assign(new Error(`error ${code}`), { code })) }) as unknown as Db;

describe('receiveBounce when the database refuses', () => {
  const raw = Buffer.from(bounceReport({ to: 'x@b.test', recipient: 'pat@client.test', status: '5.1.1' }));
  const targets = [{ delegationId: 'dlg_00000000000000000000000000000000', attempt: 1 }];

  it.each(['22021', '22001', '54000'])(
    'drops a report refused as data (%s): the listener answers 250',
    async (code) => {
      expect(await receiveBounce({ db: failingDb(code), logger }, { raw, targets })).toEqual(['invalid']);
    },
  );

  it.each(['08006', '40001', '57014'])(
    'rethrows what may pass on retry (%s): the listener answers 451',
    async (code) => {
      await expect(receiveBounce({ db: failingDb(code), logger }, { raw, targets })).rejects.toMatchObject({ code });
    },
  );
});
