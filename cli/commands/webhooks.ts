/** `labforge webhooks add|list|remove|log`: where graders get session events (lib/webhooks/, docs/graders.md). */
import { z } from 'zod';
import type { Db } from '../../lib/db/client';
import { deliveryLog, type DeliveryEntry } from '../../lib/webhooks/delivery-log';
import { WebhookError, WebhookSubscriptions, type SubscriptionInfo } from '../../lib/webhooks/subscriptions';
import { out, parseCommand, usageMistake } from './args';
import { openDatabase, withDatabase } from './database';

export const USAGE = `usage: labforge webhooks add --url URL (--labs a,b | --all-labs) [--events e1,e2] [--json]
       labforge webhooks list [--json]
       labforge webhooks remove ID
       labforge webhooks log ID [--limit N] [--json]`;

const OPTIONS = {
  url: { type: 'string' },
  labs: { type: 'string' },
  'all-labs': { type: 'boolean', default: false },
  events: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const needsId = (command: string) => `webhooks ${command} needs one subscription id`;
const TOOL = { name: 'webhooks', usage: USAGE, options: OPTIONS, commands: { add: null, list: null, remove: needsId('remove'), log: needsId('log') } };
const LimitSchema = z.coerce.number().int().min(1).max(1000);
const list = (text?: string) => text?.split(',').map((x) => x.trim());
const usage = (message: string) => usageMistake(TOOL, message);

/** Exit codes: 0 done, 1 refused (a bad URL, an unknown subscription), 2 a usage mistake. `open`: the database (tests pass theirs). */
export async function run(args: string[], open: () => Promise<Db> = openDatabase): Promise<number> {
  const parsed = parseCommand(TOOL, args);
  if (typeof parsed === 'number') return parsed;
  const { command, values, positionals } = parsed;
  if (command === 'add' && !values.url) return usage('webhooks add needs --url');
  const limit = LimitSchema.safeParse(values.limit ?? 20);
  if (!limit.success) return usage('--limit should be a number from 1 to 1000');

  return withDatabase('webhooks', open, WebhookError, async (db) => {
    const subs = new WebhookSubscriptions(db);
    if (command === 'add') {
      const made = await subs.add({ url: values.url!, labs: list(values.labs), allLabs: values['all-labs'], events: list(values.events) });
      if (values.json) out(`${JSON.stringify({ ...made.info, secret: made.secret }, null, 2)}\n`);
      else
        out(
          `Subscription ${made.info.id} created: ${describe(made.info)}.\n` +
            `Its signing secret, shown this once (keep it with the receiver):\n\n  ${made.secret}\n\n` +
            `Requests carry X-Labforge-Signature: sha256=HMAC-SHA256(secret, "<X-Labforge-Timestamp>.<body>"); docs/graders.md shows how to verify it.\n`,
        );
    } else if (command === 'list') {
      printList(await subs.list(), values.json);
    } else if (command === 'remove') {
      const { deliveries } = await subs.remove(positionals[0]);
      out(`Subscription ${positionals[0]} removed, with its ${deliveries} logged deliveries; nothing more is sent to it.\n`);
    } else {
      await subs.require(positionals[0]);
      printLog(await deliveryLog(db, positionals[0], limit.data), values.json);
    }
    return 0;
  });
}

function describe(s: SubscriptionInfo): string {
  return `POST ${s.url}; ${s.labs === 'all' ? 'all labs' : `labs ${s.labs.join(', ')}`}; events ${s.events.join(', ')}`;
}

function printList(subs: SubscriptionInfo[], json: boolean): void {
  if (json) return void out(`${JSON.stringify(subs, null, 2)}\n`);
  if (!subs.length) return void out('No webhook subscriptions yet: labforge webhooks add --url URL --labs LAB\n');
  for (const s of subs) {
    const last = s.last ? `last #${s.last.delivery} ${s.last.state}${s.last.status ? ` (${s.last.status})` : ''}` : 'nothing sent yet';
    out(`${s.id}  ${describe(s)}\n    ${s.pending} pending, ${s.givenUp} given up; ${last}${s.last?.error ? `: ${s.last.error}` : ''}\n`);
  }
}

function printLog(entries: DeliveryEntry[], json: boolean): void {
  if (json) return void out(`${JSON.stringify(entries, null, 2)}\n`);
  if (!entries.length) return void out('No deliveries yet.\n');
  for (const d of entries) {
    const when = d.deliveredAt ?? d.givenUpAt ?? (d.nextAttemptAt ? `next ${d.nextAttemptAt}` : '');
    const answer = d.lastError ?? (d.lastStatus ? `answered ${d.lastStatus}` : '');
    out(`#${d.id}  ${d.event.padEnd(18)} ${d.state.padEnd(9)} ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}  ${when}${answer ? `  ${answer}` : ''}\n`);
  }
}
