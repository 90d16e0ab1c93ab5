/**
 * Values the platform makes once and every replica of one database shares: the first process to
 * start writes one, the others (and every later start) read it. Such a value must not change once
 * written (the instance name is on the engines' containers).
 */
import type { Db } from './client';
import { lostRace } from './faults';

/** The value stored under `key`, or `make()`'s, stored now, when there is none yet. */
export async function sharedSetting(db: Db, key: string, make: () => string): Promise<string> {
  const found = await db.setting.findUnique({ where: { key } });
  if (found) return found.value;
  // Two replicas starting together both try; the primary key lets one win, and both read its value.
  await db.setting.create({ data: { key, value: make() } }).catch((e: unknown) => {
    if (!lostRace(e)) throw e;
  });
  return (await db.setting.findUniqueOrThrow({ where: { key } })).value;
}
