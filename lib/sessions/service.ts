/**
 * The session state machine, as the rest of the platform sees it: the one place that decides
 * what happens to a learner's session. provisioning → active → completed | expired | failed |
 * stopped. State lives in the database so reloads, reconnects and restarts resume.
 *
 * This class only names the operations; each lives in the module for its concern, all sharing
 * one SessionContext (context.ts: repository, guards, ending, the per-session lock):
 * - queries.ts: a session's view, the learner's list, an earlier challenge
 * - provisioning.ts: start, and the background work up to `active`
 * - commands.ts: check, next, stop, extend
 * - targets.ts: what each tab reaches (terminal, editor, service, traffic)
 * - host-watch.ts: the watch pass and the Restart button
 * - housekeeping.ts: resume on server start, the expiry sweep, owners for the reconciler
 * - handover.ts: the sessions of a replica that is gone go back to the job queue
 */
import type { SessionDeps } from './deps';
import { SessionCommands, type CheckResult, type ExtendedBy } from './commands';
import { SessionContext } from './context';
import { HostWatch } from './host-watch';
import { Handover } from './handover';
import { Housekeeping } from './housekeeping';
import type { LearnerMessage } from './messages';
import { Provisioning } from './provisioning';
import { SessionQueries } from './queries';
import { TabTargets } from './targets';
import type { ChallengeView, SessionStatus, SessionView } from './view';

export class SessionService {
  private readonly ctx: SessionContext;
  private readonly queries: SessionQueries;
  private readonly provisioning: Provisioning;
  private readonly commands: SessionCommands;
  private readonly targets: TabTargets;
  private readonly hosts: HostWatch;
  private readonly housekeeping: Housekeeping;
  private readonly handover?: Handover;

  constructor(deps: SessionDeps) {
    this.ctx = new SessionContext(deps);
    this.hosts = new HostWatch(this.ctx);
    this.queries = new SessionQueries(this.ctx);
    this.provisioning = new Provisioning(this.ctx);
    this.commands = new SessionCommands(this.ctx, this.hosts, this.queries);
    this.targets = new TabTargets(this.ctx, this.hosts);
    this.housekeeping = new Housekeeping(this.ctx, this.hosts);
    if (deps.jobs?.shared) this.handover = new Handover(this.ctx, deps.jobs);
  }

  // ---- queries ---------------------------------------------------------

  get(id: string, learnerId: string): Promise<SessionView> {
    return this.queries.get(id, learnerId);
  }

  listFor(learnerId: string): Promise<SessionView[]> {
    return this.queries.listFor(learnerId);
  }

  challengeAt(id: string, learnerId: string, index: number): Promise<ChallengeView> {
    return this.queries.challengeAt(id, learnerId, index);
  }

  // ---- commands --------------------------------------------------------

  start(labSlug: string, learnerId: string, opts: { challenge?: string } = {}): Promise<{ id: string; status: SessionStatus }> {
    return this.provisioning.start(labSlug, learnerId, opts);
  }

  check(id: string, learnerId: string, body: { answers?: number[] } = {}): Promise<CheckResult> {
    return this.commands.check(id, learnerId, body);
  }

  next(id: string, learnerId: string): Promise<SessionView> {
    return this.commands.next(id, learnerId);
  }

  stop(id: string, learnerId: string): Promise<void> {
    return this.commands.stop(id, learnerId);
  }

  extend(id: string, learnerId: string, by?: ExtendedBy): Promise<SessionView> {
    return this.commands.extend(id, learnerId, by);
  }

  message(id: string, learnerId: string, text: string, from: string): Promise<LearnerMessage> {
    return this.commands.message(id, learnerId, text, from);
  }

  restartHost(id: string, learnerId: string, host: string): Promise<void> {
    return this.hosts.restartHost(id, learnerId, host);
  }

  /** Terminal input and editor saves count as activity (the idle timeout). */
  touch(id: string): Promise<void> {
    return this.ctx.repo.touch(id);
  }

  // ---- tab targets -----------------------------------------------------

  terminalTarget(id: string, learnerId: string, tab: string) {
    return this.targets.terminal(id, learnerId, tab);
  }

  editorTarget(id: string, learnerId: string, tab: string) {
    return this.targets.editor(id, learnerId, tab);
  }

  serviceTarget(id: string, learnerId: string, tab: string) {
    return this.targets.service(id, learnerId, tab);
  }

  trafficTarget(id: string, learnerId: string) {
    return this.targets.traffic(id, learnerId);
  }

  // ---- housekeeping (the server's timers and start) --------------------

  resumeAll(): Promise<void> {
    return this.housekeeping.resumeAll();
  }

  sweep(): Promise<void> {
    return this.housekeeping.sweep();
  }

  watchHosts(): Promise<void> {
    return this.hosts.watchHosts();
  }

  liveOwners(): Promise<Set<string>> {
    return this.housekeeping.liveOwners();
  }

  /** This replica's capacity counts the other replicas' sessions too (housekeeping.ts). */
  syncCapacity(): Promise<void> {
    return this.housekeeping.syncCapacity();
  }

  /** Sessions being prepared by replicas not in `live` go back to the job queue (jobs in the database only); how many. */
  handOver(live: Set<string>): Promise<number> {
    return this.handover?.pass(live) ?? Promise.resolve(0);
  }
}
