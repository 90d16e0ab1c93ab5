/**
 * Starting a lab: `start` writes the session (`provisioning`) and returns at once; `provision`
 * continues in the background: a claimed warm-pool environment or a new one (after a free slot of
 * the host's capacity), track setup, the first challenge's setup, then `active`. Each step is
 * stored on the row as it happens, for the page to show. Any failure ends in `failed`.
 */
import crypto from 'node:crypto';
import type { Environment, ProgressStep } from '../environments/driver';
import type { Lab } from '../labs/schema';
import { PRIORITY } from '../base/limiter';
import { generateVariables } from '../checks/variables';
import { requireRoom } from './caps';
import type { SessionContext } from './context';
import { SessionError, notFound } from './errors';
import { ProgressLog } from './progress';
import { Runbook } from './runbook';
import { tabId } from './view';
import type { SessionStatus } from './view';

/** Session ids appear in container and network names: short, lowercase, unguessable. */
const newSessionId = () =>
  crypto
    .randomBytes(10)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');

export class Provisioning {
  constructor(private ctx: SessionContext) {}

  /** `challenge`: start there (author mode only), the earlier ones replayed by their solve scripts. */
  async start(labSlug: string, learnerId: string, opts: { challenge?: string } = {}): Promise<{ id: string; status: SessionStatus }> {
    const { deps, repo } = this.ctx;
    const lab = deps.catalog.get(labSlug);
    if (!lab) throw notFound(`lab "${labSlug}"`);
    this.ctx.guards.driverFor(lab); // fail fast on an unknown driver
    let startAt = 0;
    if (opts.challenge !== undefined) {
      if (!deps.authorMode) throw new SessionError('forbidden', 'starting at a later challenge needs author mode (LABFORGE_AUTHOR_MODE=1)');
      startAt = lab.challenges.findIndex((c) => c.slug === opts.challenge);
      if (startAt < 0) throw new SessionError('invalid', `lab "${labSlug}" has no challenge "${opts.challenge}"`);
    }
    // One learner's starts are serialised, so two at once cannot both pass the cap.
    return this.ctx.lock.run(`learner:${learnerId}`, async () => {
      await requireRoom(repo, deps.sessionCaps, learnerId, lab);
      const id = newSessionId();
      const vars = generateVariables(lab.track.variables);
      await repo.create(id, lab, learnerId, vars);
      await repo.event(id, 'session.created', { lab: labSlug });
      void this.provision(id, lab, vars, startAt);
      return { id, status: 'provisioning' as const };
    });
  }

  private async provision(id: string, lab: Lab, vars: Record<string, string>, startAt: number): Promise<void> {
    const { deps, repo, log } = this.ctx;
    const abort = new AbortController();
    this.ctx.ending.provisioning.set(id, abort);
    const progress = new ProgressLog((steps) => {
      // Prisma queries run only when awaited or then'd: catch() starts it (and a lost update is harmless).
      repo.saveSteps(id, steps).catch((e: Error) => log.warn({ session: id, err: e.message }, 'could not save progress'));
    });
    const report = progress.report;
    const driver = this.ctx.guards.driverFor(lab);
    const started = Date.now();
    let outcome: 'active' | 'failed' | 'cancelled' = 'failed';
    let env: Environment | undefined;
    let warm = false;
    try {
      env = deps.pool?.claim(lab.track.slug, id);
      warm = !!env;
      if (env) {
        // A warm environment: created and through track setup already; only learner-specific work remains.
        report({ step: 'Claiming a ready environment', status: 'done', ms: 0 });
      } else {
        await this.waitForCapacity(id, lab, report, abort.signal);
      }
      // The heavy part takes its turn (provisionLimiter), so many starts at once do not make each
      // one slow. A warm claim skips the line: what is left (the first challenge's setup) is short.
      const prepare = async () => {
        if (!env) {
          env = await driver.create({ owner: id, lab: lab.track.slug, labRoot: lab.root, environment: lab.track.environment }, report, abort.signal);
        }
        await repo.setEnvironment(id, env);
        const book = Runbook.of(driver, lab, env, vars);
        if (!warm) await progress.timed('Running track setup', () => book.prepare());
        // Author mode replays the challenges before startAt (setup, solve, cleanup), then enters it.
        await book.startAt(startAt, async (c, what, run) => {
          if (what === 'enter') return progress.timed(`Preparing "${c.title}"`, run);
          await progress.timed(`Solving "${c.title}" (author mode)`, run);
          await repo.markChallenge(id, c.index, 'skipped');
        });
      };
      if (warm) await prepare();
      else await this.inTurn(id, report, abort.signal, prepare);
      const row = await repo.find(id);
      if (row?.status !== 'provisioning') throw new Error(`session was ${row?.status ?? 'removed'} while provisioning`);
      await repo.activate(id, lab, startAt, progress.steps);
      deps.onActive?.(
        id,
        row.learnerId,
        lab.challenges[startAt].tabs.filter((t) => t.type === 'terminal').map((t) => tabId(t.title)),
      );
      await repo.event(id, 'session.active', { ms: progress.totalMs() });
      log.info({ session: id, lab: lab.track.slug }, 'session active');
      outcome = 'active';
    } catch (e) {
      outcome = await this.failed(id, lab, (e as Error).message, env);
    } finally {
      this.ctx.ending.provisioning.delete(id);
      this.ctx.waiting.delete(id);
      deps.observer?.provisioned({ lab: lab.track.slug, outcome, warm, ms: Date.now() - started });
    }
  }

  /** Provisioning threw: fail the session, unless it was stopped meanwhile (then only the environment goes). */
  private async failed(id: string, lab: Lab, message: string, env: Environment | undefined): Promise<'failed' | 'cancelled'> {
    const { log } = this.ctx;
    const driver = this.ctx.guards.driverFor(lab);
    let outcome: 'failed' | 'cancelled' = 'failed';
    try {
      const row = await this.ctx.repo.find(id);
      // A session stopped while it was being prepared is not a failure.
      if (row?.status !== 'provisioning') outcome = 'cancelled';
      if (row?.status === 'provisioning') log.error({ session: id, err: message }, 'provisioning failed');
      else log.info({ session: id, status: row?.status }, 'provisioning cancelled');
      if (row?.status === 'provisioning') await this.ctx.ending.fail(row, lab, message, env);
      else if (env) await driver.destroy(env).catch(() => undefined);
    } catch (saving) {
      // The database itself failed (read-only, disk full): the environment goes anyway, and the
      // session, still `provisioning`, is failed by the next start's resume pass.
      log.error({ session: id, err: message, saving: (saving as Error).message }, 'provisioning failed and could not be recorded');
      if (env) await driver.destroy(env).catch(() => undefined);
    }
    this.ctx.deps.capacity?.release(id);
    return outcome;
  }

  /** Takes a slot of the host's capacity, telling the learner their place in the queue meanwhile. */
  private async waitForCapacity(id: string, lab: Lab, report: (p: ProgressStep) => void, signal: AbortSignal) {
    const capacity = this.ctx.deps.capacity;
    if (!capacity) return;
    const step = 'Waiting for a free slot';
    let queued = false;
    const t = Date.now();
    this.ctx.waiting.set(id, () => {
      const position = capacity.position(id);
      // Room comes back when other sessions end, which nobody can foretell: no estimate.
      return position ? { waitingFor: 'room', position } : undefined;
    });
    await capacity.acquire(
      {
        id,
        cost: capacity.costOf(lab),
        onPosition: (p) => {
          if (p > 0) {
            queued = true;
            report({ step, status: 'running', detail: `number ${p} in the queue` });
          }
        },
      },
      signal,
    );
    this.ctx.waiting.delete(id);
    if (queued) report({ step, status: 'done', ms: Date.now() - t });
  }

  /** Runs `work` in its turn of the provisioning limit, telling the learner their place and an estimate meanwhile. */
  private async inTurn(id: string, report: (p: ProgressStep) => void, signal: AbortSignal, work: () => Promise<void>): Promise<void> {
    const limiter = this.ctx.deps.provisionLimiter;
    if (!limiter) return work();
    const step = 'Waiting for its turn to be prepared';
    let queued = false;
    const t = Date.now();
    this.ctx.waiting.set(id, () => {
      const position = limiter.position(id);
      return position ? { waitingFor: 'turn', position, estimateMs: limiter.estimate(id) } : undefined;
    });
    await limiter.run(work, {
      id,
      priority: PRIORITY.learner,
      signal,
      onPosition: (p) => {
        if (p > 0) {
          queued = true;
          report({ step, status: 'running', detail: `number ${p} in the queue` });
          return;
        }
        this.ctx.waiting.delete(id);
        if (queued) report({ step, status: 'done', ms: Date.now() - t });
      },
    });
  }
}
