/**
 * Webhook subscriptions: where events of some labs are posted, and the secret they are signed
 * with. The secret is returned once, by `add`; `list` never shows it. Labs are stored like API
 * tokens' (lib/auth/api-tokens.ts): slugs, or `["*"]` for every lab.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { LabSlugSchema } from '../auth/api-tokens';
import type { Db } from '../db/client';
import type { WebhookSubscription } from '../db/generated/client';
import { lastAttempts, queueCounts, type DeliverySummary } from './delivery-log';
import { WEBHOOK_EVENTS, type WebhookEvent } from './events';

const ALL_LABS = '*';

/** A refusal with a message for the person at the CLI. */
export class WebhookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookError';
  }
}

/** http(s) only, and no user:password in it: URLs are shown by `list` and in logs, secrets are not. */
export const WebhookUrlSchema = z
  .string()
  .max(2000, 'the URL is longer than 2000 characters')
  .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), {
    message: 'the URL must start with http:// or https://, e.g. https://grader.example.com/labforge',
  })
  .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), {
    message: 'the URL must not carry a user or password: receivers authenticate requests by their signature',
  });

const EventSchema = z.enum(WEBHOOK_EVENTS, { error: (i) => `unknown event "${String(i.input)}" (known: ${WEBHOOK_EVENTS.join(', ')})` });

export const AddSubscriptionSchema = z
  .object({
    url: WebhookUrlSchema,
    labs: z.array(LabSlugSchema).max(200).optional(),
    allLabs: z.boolean().default(false),
    /** None: every event. */
    events: z
      .array(EventSchema)
      .max(WEBHOOK_EVENTS.length * 2)
      .optional(),
  })
  .strict()
  .refine((s) => s.allLabs !== !!s.labs?.length, {
    message: 'a subscription is for labs: name at least one (--labs a,b), or pass --all-labs for every lab (not both)',
  });
/** What `add` takes (events as plain strings: the schema names an unknown one). */
export type AddSubscription = Omit<z.input<typeof AddSubscriptionSchema>, 'events'> & { events?: string[] };

/** A subscription as the fan-out matches it and the dispatcher signs with it. */
export interface Subscription {
  id: string;
  url: string;
  secret: string;
  labs: string[] | 'all';
  events: WebhookEvent[];
  createdAt: Date;
}

export interface SubscriptionInfo extends DeliverySummary {
  id: string;
  url: string;
  labs: string[] | 'all';
  events: WebhookEvent[];
  createdAt: string;
}

const StoredList = z.array(z.string());

/** A JSON column of strings; a damaged one reads as empty (it matches nothing) rather than stopping every delivery. */
function storedList(text: string): string[] {
  try {
    return StoredList.catch([]).parse(JSON.parse(text));
  } catch {
    return [];
  }
}

/** The row with its JSON columns read; event types this version does not know are dropped. */
export function toSubscription(row: WebhookSubscription): Subscription {
  const labs = storedList(row.labs);
  const events = storedList(row.events).filter((e): e is WebhookEvent => (WEBHOOK_EVENTS as readonly string[]).includes(e));
  return { id: row.id, url: row.url, secret: row.secret, labs: labs.includes(ALL_LABS) ? 'all' : labs, events, createdAt: row.createdAt };
}

/** Whether `sub` receives an event of `type` in `lab` that happened at `at` (none from before it existed). */
export function matches(sub: Subscription, lab: string, type: WebhookEvent, at: Date): boolean {
  return at >= sub.createdAt && sub.events.includes(type) && (sub.labs === 'all' || sub.labs.includes(lab));
}

export class WebhookSubscriptions {
  constructor(private db: Db) {}

  /** A new subscription; the returned `secret` is the only time it is shown. */
  async add(input: AddSubscription): Promise<{ secret: string; info: SubscriptionInfo }> {
    const parsed = AddSubscriptionSchema.safeParse(input);
    if (!parsed.success) throw new WebhookError(parsed.error.issues[0].message);
    const { url, labs, allLabs, events } = parsed.data;
    const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
    const row = await this.db.webhookSubscription.create({
      data: {
        id: `wh_${crypto.randomBytes(9).toString('base64url')}`,
        url,
        secret,
        labs: JSON.stringify(allLabs ? [ALL_LABS] : [...new Set(labs)]),
        events: JSON.stringify(events?.length ? [...new Set(events)] : WEBHOOK_EVENTS),
      },
    });
    return { secret, info: info(toSubscription(row), { pending: 0, givenUp: 0, last: null }) };
  }

  /** Every subscription, oldest first, with its queue and last attempt. */
  async list(): Promise<SubscriptionInfo[]> {
    const subs = (await this.db.webhookSubscription.findMany({ orderBy: { createdAt: 'asc' } })).map(toSubscription);
    const counts = await queueCounts(this.db);
    const last = await lastAttempts(
      this.db,
      subs.map((s) => s.id),
    );
    return subs.map((s) => info(s, { ...(counts.get(s.id) ?? { pending: 0, givenUp: 0 }), last: last.get(s.id) ?? null }));
  }

  /** Removes a subscription and its delivery log; what was still pending is not sent. */
  async remove(id: string): Promise<{ deliveries: number }> {
    const deliveries = await this.db.webhookDelivery.count({ where: { subscriptionId: id } });
    const { count } = await this.db.webhookSubscription.deleteMany({ where: { id } });
    if (!count) throw unknownSubscription(id);
    return { deliveries };
  }

  async require(id: string): Promise<Subscription> {
    const row = await this.db.webhookSubscription.findUnique({ where: { id } });
    if (!row) throw unknownSubscription(id);
    return toSubscription(row);
  }
}

const unknownSubscription = (id: string) => new WebhookError(`there is no webhook subscription "${id.slice(0, 60)}" (labforge webhooks list shows them)`);

function info(s: Subscription, summary: DeliverySummary): SubscriptionInfo {
  return { id: s.id, url: s.url, labs: s.labs, events: s.events, createdAt: s.createdAt.toISOString(), ...summary };
}
