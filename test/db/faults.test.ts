/**
 * PostgreSQL's storage faults are recognised as SQLite's are (lib/db/faults.ts): what a request
 * meets on a read-only server (a standby, a failover) or a full disk answers 503 "not now", not
 * 500. The shapes are the ones Prisma 6.19 with adapter-pg throws (seen on a database with
 * default_transaction_read_only; test/db/raw.test.ts meets them live in the postgres project).
 */
import { describe, expect, it } from 'vitest';
import { storageFault } from '../../lib/db/faults';

/** A model query's error: the adapter's, with PostgreSQL's SQLSTATE as its cause's code. */
const modelError = (code: string, message: string) =>
  Object.assign(new Error(message), { name: 'DriverAdapterError', cause: { kind: 'postgres', code, originalCode: code, message } });

/** A raw query's error (P2010): the SQLSTATE only in the message. */
const rawError = (code: string, message: string) =>
  Object.assign(new Error(`Invalid \`prisma.$queryRawUnsafe()\` invocation:\n\n\nRaw query failed. Code: \`${code}\`. Message: \`${message}\``), {
    code: 'P2010',
  });

describe('PostgreSQL storage faults', () => {
  it('a read-only transaction, a full disk and an I/O error are storage faults, from a model query or a raw one', () => {
    expect(storageFault(modelError('25006', 'cannot execute INSERT in a read-only transaction'))).toEqual({ kind: 'read-only', code: '25006' });
    expect(storageFault(rawError('25006', 'cannot execute SELECT in a read-only transaction'))).toEqual({ kind: 'read-only', code: '25006' });
    expect(storageFault(modelError('53100', 'could not extend file "base/16384/16385": No space left on device'))).toEqual({ kind: 'full', code: '53100' });
    expect(storageFault(modelError('58030', 'could not read block 0 in file "base/16384/16385": Input/output error'))).toEqual({ kind: 'io', code: '58030' });
  });

  it('what the request asked for wrong, or a server that is away, is not one', () => {
    expect(storageFault(modelError('23505', 'duplicate key value violates unique constraint "User_email_key"'))).toBeUndefined();
    expect(storageFault(rawError('N/A', "Can't reach database server at 127.0.0.1:5999"))).toBeUndefined();
    expect(storageFault(rawError('57P01', 'terminating connection due to administrator command'))).toBeUndefined();
  });
});
