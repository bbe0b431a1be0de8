/**
 * Serialises writes to one SQLite file within this process.
 *
 * The embedded libsql driver runs each statement synchronously on the JS thread, and SQLite's busy
 * timeout waits by blocking that thread. So if one pooled connection holds an open write
 * transaction (awaiting between statements) and another connection of the same process tries to
 * write, the second blocks the very thread the first needs to commit: nothing moves until the busy
 * timeout expires with SQLITE_BUSY. Between processes the busy timeout works as intended; within
 * a process, writers must queue in JS instead. Reads (`select …`) skip the queue: under WAL they
 * never wait for the writer.
 */
import type { Client, InStatement, Transaction, TransactionMode } from '@libsql/client';

class AsyncMutex {
  private locked = false;
  private readonly waiters: (() => void)[] = [];

  /** Resolves with a release function; rejects after `timeoutMs` in the queue. */
  acquire(timeoutMs: number): Promise<() => void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(this.releaser());
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          Object.assign(new Error(`SQLITE_BUSY: waited ${timeoutMs} ms for a write transaction of this same process`), {
            code: 'SQLITE_BUSY',
          }),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.locked = false;
    };
  }
}

function isRead(statement: InStatement): boolean {
  const text = typeof statement === 'string' ? statement : statement.sql;
  return /^\s*select\b/i.test(text);
}

/** One queue per database file, shared by every client this process opens on it. */
const mutexByFile = new Map<string, AsyncMutex>();

/**
 * Wraps a libsql client so its transactions and write statements take turns with those of every
 * other client of this process on the same file (see file comment). `file` is the absolute path,
 * or undefined for an in-memory database, which only this client can see.
 */
export function gateWrites(client: Client, timeoutMs: number, file: string | undefined): Client {
  let mutex = file === undefined ? undefined : mutexByFile.get(file);
  if (!mutex) {
    mutex = new AsyncMutex();
    if (file !== undefined) mutexByFile.set(file, mutex);
  }
  const lock = mutex;
  const exclusive = async <T>(work: () => Promise<T>): Promise<T> => {
    const release = await lock.acquire(timeoutMs);
    try {
      return await work();
    } finally {
      release();
    }
  };

  const gated: Partial<Client> = {
    execute: ((statement: InStatement | string, args?: unknown) => {
      const run = () =>
        args === undefined ? client.execute(statement) : client.execute(statement as string, args as never);
      return isRead(statement) ? run() : exclusive(run);
    }) as Client['execute'],
    batch: (statements, mode) => exclusive(() => client.batch(statements, mode)),
    migrate: (statements) => exclusive(() => client.migrate(statements)),
    executeMultiple: (sql) => exclusive(() => client.executeMultiple(sql)),
    transaction: async (mode?: TransactionMode) => {
      const release = await lock.acquire(timeoutMs);
      try {
        return releasingOnEnd(await client.transaction(mode), release);
      } catch (err) {
        release();
        throw err;
      }
    },
  };
  return new Proxy(client, {
    get(target, property) {
      if (Object.hasOwn(gated, property)) return gated[property as keyof Client];
      // `target` as receiver: the client's getters read its private fields.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function releasingOnEnd(tx: Transaction, release: () => void): Transaction {
  const ending = new Set<PropertyKey>(['commit', 'rollback', 'close']);
  return new Proxy(tx, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!ending.has(property)) return value.bind(target);
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          release();
        }
      };
    },
  });
}
