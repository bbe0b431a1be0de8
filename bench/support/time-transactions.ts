/** Stopwatches an instrumented API puts around the database's transactions. */
import { performance } from 'node:perf_hooks';
import type { Db } from '../../src/db/client';

/**
 * Wraps `db.orm.transaction` so every transaction reports how long it waited for the write gate
 * (`txWait`, until its body starts) and how long it held it (`txHold`, until it ends).
 */
export function timeTransactions(db: Db, record: (stage: 'txWait' | 'txHold', ms: number) => void): void {
  const transaction = db.orm.transaction.bind(db.orm);
  db.orm.transaction = (async (
    work: Parameters<typeof transaction>[0],
    txConfig?: Parameters<typeof transaction>[1],
  ) => {
    const asked = performance.now();
    let began = asked;
    try {
      return await transaction(async (tx) => {
        began = performance.now();
        record('txWait', began - asked);
        return work(tx);
      }, txConfig);
    } finally {
      record('txHold', performance.now() - began);
    }
  }) as typeof db.orm.transaction;
}
