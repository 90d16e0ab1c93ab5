/**
 * Starting a lab: `start` writes the session (`provisioning`), queues a `provision` job and
 * returns at once. The job (lib/jobs/: in this process with SQLite, in PostgreSQL for every
 * replica otherwise) claims the session for one replica, then prepares it: a claimed warm-pool
 * environment or a new one (after a free slot of the host's capacity), track setup, the first
 * challenge's setup, then `active`. Each step is stored on the row as it happens, for the page to
 * show. A failure while the driver's backend does not answer (the engine restarting) is tried
 * again: what the attempt made goes, the session waits for the queue's retry (with backoff), and the
 * learner sees why. Any other failure, or the last attempt's, ends in `failed`. A job whose replica
 * died is handed back to the queue too (handover.ts). A next attempt removes what the earlier one
 * left and starts over.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Environment, ProgressStep } from '../environments/driver';
import { InProcessQueue, type JobInfo, type JobQueue } from '../jobs/queue';
import type { Lab } from '../labs/schema';
import { PRIORITY } from '../base/limiter';
import { withTimeout } from '../base/timeout';
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

export const PROVISION_QUEUE = 'provision';
/** The step a retried preparation starts with, for the learner (and what tests and the bench look for). */
export const TAKEN_OVER_STEP = 'Started again: the server preparing it stopped';
/** The last step of an attempt cut short by its backend, its detail saying why; the next attempt starts with RETRIED_STEP. */
export const RETRY_STEP = 'Waiting to try again';
export const RETRIED_STEP = 'Started again';
/** How long the backend has to answer before a failure counts as its own (and is tried again). */
const PING_MS = 5_000;
const jobSchema = z.object({ sessionId: z.string().min(1).max(64), startAt: z.number().int().min(0) }).strict();
type ProvisionJob = z.infer<typeof jobSchema>;

/** Thrown when another replica took the session over (this one was judged gone): its work is dropped, the session left alone. */
class HandedOver extends Error {}
/** Thrown out of a job for the queue to run it again later: the backend did not answer. */
class TryAgain extends Error {}

export class Provisioning {
  private readonly jobs: JobQueue;
  private readonly working: Promise<void>;

  constructor(private ctx: SessionContext) {
    this.jobs = ctx.deps.jobs ?? new InProcessQueue(ctx.log);
    // Jobs waiting in PostgreSQL beyond this are taken by another replica, or by this one as its own end.
    const concurrency = 4 * (ctx.deps.provisionLimiter?.concurrency ?? 8);
    this.working = this.jobs.work<ProvisionJob>(PROVISION_QUEUE, (data, job) => this.run(data, job), { concurrency });
    this.working.catch((e: Error) => ctx.log.error({ err: e.message }, 'could not start taking provisioning jobs'));
  }

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
      await this.queue(id, lab, startAt);
      return { id, status: 'provisioning' as const };
    });
  }

  /** Queues the session's `provision` job; a queue that refuses it fails the session, with why. */
  private async queue(id: string, lab: Lab, startAt: number): Promise<void> {
    try {
      await this.working;
      const job = await this.jobs.send<ProvisionJob>(PROVISION_QUEUE, { sessionId: id, startAt });
      await this.ctx.repo.setProvisionJob(id, job);
    } catch (e) {
      const row = await this.ctx.repo.find(id);
      if (row?.status === 'provisioning') await this.ctx.ending.fail(row, lab, `could not queue its preparation: ${(e as Error).message}`);
    }
  }

  /**
   * A `provision` job: claims the session for this replica (one replica wins; a session already
   * claimed, ended or gone leaves nothing to do), then prepares it. A retry first removes what an
   * earlier attempt left.
   */
  private async run(data: ProvisionJob, job: JobInfo): Promise<void> {
    const { deps, repo, log } = this.ctx;
    const { sessionId: id, startAt } = jobSchema.parse(data);
    if (!(await repo.claim(id, this.ctx.replica)))
      return void log.info({ session: id, job: job.id }, 'provision job: the session is no longer waiting for one');
    const row = (await repo.find(id))!;
    const lab = deps.catalog.get(row.labSlug);
    if (!lab) return void (await this.ctx.ending.fail(row, null, `the lab "${row.labSlug}" is no longer installed`));
    const again = job.attempt > 1 ? await this.clearEarlierAttempt(row.id, row.environment, row.progress, lab) : undefined;
    await this.provision(id, lab, JSON.parse(row.variables) as Record<string, string>, startAt, job, again);
  }

  /**
   * What an earlier attempt left (its environment, recorded or half-made, and its steps) goes; the
   * first step of this one, saying why it started again: its backend did not answer, or its replica died.
   */
  private async clearEarlierAttempt(id: string, environment: string | null, progress: string, lab: Lab): Promise<ProgressStep> {
    const driver = this.ctx.guards.driverFor(lab);
    const drop = (e: Error) => this.ctx.log.warn({ session: id, err: e.message }, 'could not remove what an earlier attempt left');
    if (environment) await driver.destroy(JSON.parse(environment) as Environment).catch(drop);
    await driver.destroyOwner(id).catch(drop);
    await this.ctx.repo.restartPreparation(id);
    const last = (JSON.parse(progress) as ProgressStep[]).at(-1);
    if (last?.step === RETRY_STEP) return { step: RETRIED_STEP, status: 'done', ms: 0, detail: last.detail };
    this.ctx.log.warn({ session: id, replica: this.ctx.replica }, 'provisioning taken over from a replica that stopped');
    return { step: TAKEN_OVER_STEP, status: 'done', ms: 0 };
  }

  private async provision(id: string, lab: Lab, vars: Record<string, string>, startAt: number, job: JobInfo, again?: ProgressStep): Promise<void> {
    const { deps, repo, log } = this.ctx;
    const abort = new AbortController();
    this.ctx.ending.provisioning.set(id, abort);
    // A ticket this replica held for the session while another one prepared it (housekeeping.ts,
    // syncCapacity) goes: the session takes its own below. The sync skips it from now on.
    deps.capacity?.release(id);
    const progress = new ProgressLog((steps) => {
      // Prisma queries run only when awaited or then'd: catch() starts it (and a lost update is harmless).
      repo.saveSteps(id, steps).catch((e: Error) => log.warn({ session: id, err: e.message }, 'could not save progress'));
    });
    const report = progress.report;
    if (again) report(again);
    const driver = this.ctx.guards.driverFor(lab);
    const started = Date.now();
    let outcome: 'active' | 'failed' | 'cancelled' | 'retrying' = 'failed';
    let env: Environment | undefined;
    let warm = false;
    try {
      env = await deps.pool?.claim(lab.track.slug, id);
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
      if (row.replicaId !== this.ctx.replica) throw new HandedOver(`session was taken over by replica ${row.replicaId ?? '(none yet)'}`);
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
      const message = (e as Error).message;
      const why = `the engine did not answer (${message}); attempt ${job.attempt} of ${job.attempts}`;
      if (
        !(e instanceof HandedOver) &&
        job.attempt < job.attempts &&
        !abort.signal.aborted &&
        (await this.backendSilent(lab)) &&
        (await this.retryLater(id, lab, env, why, progress))
      ) {
        outcome = 'retrying';
        throw new TryAgain(why);
      }
      outcome = await this.failed(id, lab, message, env, e instanceof HandedOver);
    } finally {
      this.ctx.ending.provisioning.delete(id);
      this.ctx.waiting.delete(id);
      // A retried attempt is counted once, when the last one ends.
      if (outcome !== 'retrying') deps.observer?.provisioned({ lab: lab.track.slug, outcome, warm, ms: Date.now() - started });
    }
  }

  /** Whether the lab's backend does not answer now (a failure then is the backend's, not the lab's). */
  private async backendSilent(lab: Lab): Promise<boolean> {
    const driver = this.ctx.guards.driverFor(lab);
    if (!driver.ping) return false;
    return withTimeout(driver.ping(), PING_MS, 'the backend did not answer').then(
      () => false,
      () => true,
    );
  }

  /**
   * This attempt's backend did not answer: what it made goes, and the session waits unclaimed (any
   * replica may take the retry) with a last step saying why. False when that could not be recorded
   * (the database failing too): the session is failed instead, rather than left claimed and idle.
   */
  private async retryLater(id: string, lab: Lab, env: Environment | undefined, why: string, progress: ProgressLog): Promise<boolean> {
    const { repo, log } = this.ctx;
    const driver = this.ctx.guards.driverFor(lab);
    if (env) await driver.destroy(env).catch(() => undefined);
    try {
      progress.report({ step: RETRY_STEP, status: 'running', detail: why });
      await repo.saveSteps(id, progress.steps);
      await repo.dropClaim(id, this.ctx.replica);
    } catch (e) {
      log.error({ session: id, err: (e as Error).message }, 'could not record that the preparation waits for another attempt');
      return false;
    }
    this.ctx.deps.capacity?.release(id);
    log.warn({ session: id, err: why }, 'provisioning cut short: the backend does not answer; the queue tries again');
    return true;
  }

  /**
   * Provisioning threw: fail the session, unless it was stopped meanwhile or another replica took it
   * over (then only this attempt's environment goes).
   */
  private async failed(id: string, lab: Lab, message: string, env: Environment | undefined, handedOver: boolean): Promise<'failed' | 'cancelled'> {
    const { log } = this.ctx;
    const driver = this.ctx.guards.driverFor(lab);
    let outcome: 'failed' | 'cancelled' = 'failed';
    try {
      const found = await this.ctx.repo.find(id);
      const row = found && !handedOver && found.replicaId === this.ctx.replica ? found : undefined;
      if (found && !row) log.warn({ session: id, replica: this.ctx.replica, err: message }, 'provisioning dropped: another replica took the session over');
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
