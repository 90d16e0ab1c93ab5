/**
 * Values made once for every replica of a database (lib/db/settings.ts): replicas starting together
 * each offer their own value and all get the one stored; later starts read it without making one.
 */
import { describe, expect, it } from 'vitest';
import { sharedSetting } from '../../lib/db/settings';
import { databaseForThisFile } from '../support/database';

const t = databaseForThisFile('settings');

describe('sharedSetting', () => {
  it('replicas starting together agree on one value; later starts read it', async () => {
    const values = await Promise.all(['a', 'b', 'c', 'd'].map((v) => sharedSetting(t.db, 'instance', () => v)));
    expect(new Set(values).size).toBe(1);
    let made = 0;
    expect(
      await sharedSetting(t.db, 'instance', () => {
        made++;
        return 'late';
      }),
    ).toBe(values[0]);
    expect(made).toBe(0);
    expect(await sharedSetting(t.db, 'other', () => 'x')).toBe('x');
  });
});
