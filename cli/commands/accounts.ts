/**
 * `labforge accounts invite|create|list|disable|enable`: instructor and admin accounts
 * (lib/accounts/). `invite` prints a one-time setup link the person opens to choose a password;
 * `create` sets the password directly, read from stdin (never from an argument, which `ps` shows).
 */
import { AccountError } from '../../lib/accounts/errors';
import { createSetupLink } from '../../lib/accounts/setup-links';
import { createAccount, listAccounts, setDisabled, type Account } from '../../lib/accounts/users';
import { loadConfig } from '../../lib/base/config';
import type { Db } from '../../lib/db/client';
import { out, parseCommand, usageMistake } from './args';
import { openDatabase, withDatabase } from './database';

export const USAGE = `usage: labforge accounts invite EMAIL [--role instructor|admin] [--json]
       labforge accounts create EMAIL [--role instructor|admin] [--name NAME]   (password on stdin)
       labforge accounts list [--json]
       labforge accounts disable EMAIL | enable EMAIL`;

const OPTIONS = {
  role: { type: 'string', default: 'instructor' },
  name: { type: 'string', default: '' },
  json: { type: 'boolean', default: false },
} as const;

const NEEDS_EMAIL = 'give the account’s email address';
const TOOL = {
  name: 'accounts',
  usage: USAGE,
  options: OPTIONS,
  commands: { invite: NEEDS_EMAIL, create: NEEDS_EMAIL, list: null, disable: NEEDS_EMAIL, enable: NEEDS_EMAIL },
};

/** At most this much of stdin is read for a password. */
const STDIN_LIMIT = 4096;

async function readPassword(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.length > STDIN_LIMIT) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Exit codes: 0 done, 1 refused (an account that exists, a weak password), 2 a usage mistake. */
export async function run(args: string[], open: () => Promise<Db> = openDatabase, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const parsed = parseCommand(TOOL, args);
  if (typeof parsed === 'number') return parsed;
  const { command, values, positionals } = parsed;
  const role = values.role;
  if (role !== 'instructor' && role !== 'admin') return usageMistake(TOOL, `--role is instructor or admin, not "${role.slice(0, 20)}"`);
  const email = positionals[0] ?? '';

  return withDatabase('accounts', open, AccountError, async (db) => {
    if (command === 'list') return printList(await listAccounts(db), values.json);
    if (command === 'disable' || command === 'enable') {
      const a = await setDisabled(db, email, command === 'disable');
      out(`${a.email} is ${a.disabled ? 'disabled: it cannot sign in, and its open sign-ins ended' : 'enabled'}.\n`);
      return 0;
    }
    if (command === 'create') {
      const a = await createAccount(db, { email, role, name: values.name, password: await readPassword(stdin) });
      out(`Account ${a.email} (${a.role}) created; it signs in at /login.\n`);
      return 0;
    }
    const link = await createSetupLink(db, loadConfig().publicUrl, role, email);
    if (values.json) out(`${JSON.stringify({ email, role, url: link.url, expiresAt: link.expiresAt.toISOString() }, null, 2)}\n`);
    else out(`Send this link to ${email}: it sets their password, once, until ${link.expiresAt.toISOString()}.\n\n  ${link.url}\n`);
    return 0;
  });
}

function printList(list: Account[], json: boolean): number {
  if (json) out(`${JSON.stringify(list, null, 2)}\n`);
  else if (!list.length) out('No accounts yet: the server prints a setup link for the first admin when it starts.\n');
  else
    for (const a of list) out(`${a.email.padEnd(32)} ${a.role.padEnd(10)} ${a.disabled ? 'disabled' : 'active  '} last sign-in ${a.lastLoginAt ?? 'never'}\n`);
  return 0;
}
