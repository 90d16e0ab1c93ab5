/** `labforge tokens create|list|revoke`: API tokens for automated graders (lib/auth/api-tokens.ts). */
import { ApiTokens, TokenError, type TokenInfo } from '../../lib/auth/api-tokens';
import type { Db } from '../../lib/db/client';
import { parseCommand, usageMistake } from './args';
import { openDatabase, withDatabase } from './database';

export const USAGE = `usage: labforge tokens create --name NAME (--labs a,b | --all-labs) [--expires 30d] [--terminals] [--json]
       labforge tokens list [--json]
       labforge tokens revoke NAME`;

const OPTIONS = {
  name: { type: 'string' },
  labs: { type: 'string' },
  'all-labs': { type: 'boolean', default: false },
  expires: { type: 'string' },
  terminals: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

const TOOL = { name: 'tokens', usage: USAGE, options: OPTIONS, commands: { create: null, list: null, revoke: 'tokens revoke needs the name of one token' } };
const usage = (message: string) => usageMistake(TOOL, message);

/** Exit codes: 0 done, 1 refused (a taken name, an unknown token), 2 a usage mistake. `open`: the database (tests pass theirs). */
export async function run(args: string[], open: () => Promise<Db> = openDatabase): Promise<number> {
  const parsed = parseCommand(TOOL, args);
  if (typeof parsed === 'number') return parsed;
  const { command, values, positionals } = parsed;
  const name = values.name ?? '';
  if (command === 'create' && !name) return usage('tokens create needs --name');

  return withDatabase('tokens', open, TokenError, async (db) => {
    const tokens = new ApiTokens(db);
    if (command === 'list') return printList(await tokens.list(), values.json);
    if (command === 'revoke') {
      const info = await tokens.revoke(positionals[0]);
      process.stdout.write(`Token "${info.name}" is revoked (since ${info.revokedAt}): every request with it is refused.\n`);
      return 0;
    }
    const labs = values.labs?.split(',').map((l) => l.trim());
    const made = await tokens.create({ name, labs, allLabs: values['all-labs'], expires: values.expires, terminals: values.terminals });
    if (values.json) process.stdout.write(`${JSON.stringify({ token: made.token, ...made.info }, null, 2)}\n`);
    else
      process.stdout.write(
        `Token "${made.info.name}" created (${describe(made.info)}).\n` +
          `Copy it now: it is shown this once, and Labforge keeps only a hash of it.\n\n  ${made.token}\n\n` +
          `Graders send it as the header  Authorization: Bearer <token>\n`,
      );
    return 0;
  });
}

function describe(t: TokenInfo): string {
  const labs = t.labs === 'all' ? 'all labs' : `labs ${t.labs.join(', ')}`;
  return `${labs}; ${t.terminals ? 'may open terminals' : 'no terminals'}; ${t.expiresAt ? `expires ${t.expiresAt}` : 'does not expire'}`;
}

function printList(list: TokenInfo[], json: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  else if (!list.length) process.stdout.write('No tokens yet: labforge tokens create --name NAME --labs LAB\n');
  else for (const t of list) process.stdout.write(`${t.name.padEnd(20)} ${t.status.padEnd(8)} ${describe(t)}; last used ${t.lastUsedAt ?? 'never'}\n`);
  return 0;
}
