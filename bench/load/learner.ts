/**
 * One simulated learner, end to end against the real server: start the lab (POST), poll the
 * session until active (noting any queue it waited in), open the first terminal tab with the
 * real browser client (lib/terminals/common/client.ts over ws, output into headless xterm),
 * wait for the prompt, type letters and time their echo, run a command with output, press
 * Check, stop. The echo and Check steps start together for all learners (barriers), so they
 * are measured under the load of everyone doing the same thing at once.
 */
import WebSocket from 'ws';
import { TerminalClient, type SocketLike } from '../../lib/terminals/common/client';
import { sleep } from '../lib/stats';
import type { Connection } from '../terminals/connectors';
import { PROMPT_MARK, closeShell, echoLatency, quiet, throughput } from '../terminals/measure';
import { BenchTerminal } from '../terminals/terminal';
import { ApiError, LearnerApi, type QueueSeen } from './api';
import type { Barrier } from './barrier';

export interface LearnerPlan {
  origin: string;
  port: number;
  lab: string;
  echoSamples: number;
  /** Bytes of the command's output (`yes … | head -c N`). */
  outputBytes: number;
  /** Everyone's echo and Check start together (learners queued for room leave the barriers). */
  echoBarrier: Barrier;
  /**
   * Nobody runs the command before everyone's echo is timed: 30 headless xterms parsing output in
   * this one bench process would stall its event loop, and the stall would be counted as echo.
   */
  outputBarrier: Barrier;
  checkBarrier: Barrier;
  /** Nobody stops before every Check is answered: tearing 8 hosts down loads the engine the Checks use. */
  stopBarrier: Barrier;
  /** Aborted on the learner's timeout, the total timeout or Ctrl-C. */
  signal: AbortSignal;
  log: (msg: string) => void;
}

export interface LearnerResult {
  learner: number;
  outcome: 'done' | 'refused' | 'failed' | 'timeout';
  error?: string;
  sessionId?: string;
  /** Waited for room (memory): over the server's capacity, admitted only as others stopped. */
  queuedForRoom: boolean;
  /** Highest place in the provisioning queue ("its turn to be prepared"), 0 if it never waited. */
  maxTurnPosition: number;
  /** First estimate the learner was shown in the turn queue, and how long it really took from then. */
  firstEstimate?: { estimateMs: number; actualMs: number };
  startToActiveMs?: number;
  startToPromptMs?: number;
  echoMs: number[];
  commandMs?: number;
  checkMs?: number;
  checkPassed?: boolean;
}

function socketFactory(origin: string) {
  return (url: string) => new WebSocket(url, { origin, perMessageDeflate: false }) as unknown as SocketLike;
}

/** Opens the tab's terminal with the real client; resolves once the socket is ready. */
async function openTerminal(api: LearnerApi, plan: LearnerPlan, sessionId: string, tab: string): Promise<Connection> {
  const bt = new BenchTerminal(120, 32);
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  let failure: string | undefined;
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const client = new TerminalClient({
    getToken: async () => (await api.token(sessionId, tab)).token,
    socketUrl: (token) => `ws://127.0.0.1:${plan.port}/ws/terminal?token=${encodeURIComponent(token)}`,
    createSocket: socketFactory(plan.origin),
    sink: { write: (data, rendered) => bt.feed(data, rendered), reset: () => bt.term.reset() },
    size: () => ({ cols: 120, rows: 32 }),
    onStatus: (s) => {
      if (s.state === 'ready') readyResolve();
      if (s.state === 'closed') {
        failure = s.message ?? s.state;
        closedResolve();
        readyResolve();
      }
    },
    backoff: { giveUpAfterMs: 30_000 },
  });
  bt.term.onData((d) => client.sendInput(d));
  client.start();
  await ready;
  if (failure) throw new Error(`the terminal did not open: ${failure}`);
  return { bt, closed, close: () => client.dispose() };
}

const cancelled = (signal: AbortSignal) => {
  if (signal.aborted) throw new Error(String(signal.reason ?? 'aborted'));
};

export async function runLearner(n: number, plan: LearnerPlan): Promise<LearnerResult> {
  const api = new LearnerApi(plan.origin);
  const r: LearnerResult = { learner: n, outcome: 'failed', queuedForRoom: false, maxTurnPosition: 0, echoMs: [] };
  let conn: Connection | undefined;
  let inBarriers = true;
  const leave = () => {
    if (!inBarriers) return;
    inBarriers = false;
    plan.echoBarrier.leave();
    plan.outputBarrier.leave();
    plan.checkBarrier.leave();
    plan.stopBarrier.leave();
  };
  const t0 = performance.now();
  try {
    try {
      r.sessionId = (await api.start(plan.lab)).id;
    } catch (e) {
      r.outcome = e instanceof ApiError ? 'refused' : 'failed';
      throw e;
    }
    // Until active, as the page polls it (every 250 ms here, a little faster than the page).
    let firstEstimateAt: number | undefined;
    let tabs: Array<{ id: string; type: string }> = [];
    for (;;) {
      cancelled(plan.signal);
      const view = await api.session(r.sessionId);
      const q: QueueSeen | undefined = view.queue;
      if (q?.waitingFor === 'room' && !r.queuedForRoom) {
        r.queuedForRoom = true;
        // It waits for others to stop: it cannot start its echo or Check with them.
        leave();
        plan.log(`learner ${n}: over capacity, number ${q.position} in the queue for room`);
      }
      if (q?.waitingFor === 'turn') {
        r.maxTurnPosition = Math.max(r.maxTurnPosition, q.position);
        if (q.estimateMs !== undefined && firstEstimateAt === undefined) {
          firstEstimateAt = performance.now();
          r.firstEstimate = { estimateMs: q.estimateMs, actualMs: NaN };
        }
      }
      if (view.status === 'active') {
        tabs = view.current?.tabs ?? [];
        break;
      }
      if (view.status !== 'provisioning') throw new Error(`session ${view.status}: ${view.error ?? 'no reason given'}`);
      await sleep(250);
    }
    const active = performance.now();
    r.startToActiveMs = active - t0;
    if (r.firstEstimate && firstEstimateAt !== undefined) r.firstEstimate.actualMs = Math.round(active - firstEstimateAt);
    const tab = tabs.find((t) => t.type === 'terminal');
    if (!tab) throw new Error('the first challenge has no terminal tab');
    conn = await openTerminal(api, plan, r.sessionId, tab.id);
    // The first prompt (root's `…# `, or `…$ `), then a marker prompt the measurements recognise.
    const bt = conn.bt;
    await Promise.any([bt.waitFor('# ', 60_000), bt.waitFor('$ ', 60_000)]);
    r.startToPromptMs = performance.now() - t0;
    await quiet(bt, 300);
    const marked = bt.waitFor(PROMPT_MARK, 15_000);
    bt.type(`PS1='__P''__\\$ '; unset PROMPT_COMMAND\r`);
    await marked;
    await quiet(bt, 200);
    cancelled(plan.signal);

    if (inBarriers) await plan.echoBarrier.arrive(plan.signal);
    r.echoMs = await echoLatency(conn, plan.echoSamples, 3, 30);
    if (inBarriers) await plan.outputBarrier.arrive(plan.signal);
    const out = await throughput(conn, plan.outputBytes, 60_000);
    r.commandMs = out.seconds * 1000;
    cancelled(plan.signal);

    if (inBarriers) await plan.checkBarrier.arrive(plan.signal);
    const c0 = performance.now();
    const verdict = await api.check(r.sessionId);
    r.checkMs = performance.now() - c0;
    r.checkPassed = verdict.passed;
    r.outcome = 'done';
    if (inBarriers) await plan.stopBarrier.arrive(plan.signal);
  } catch (e) {
    if (plan.signal.aborted && r.outcome !== 'refused') r.outcome = 'timeout';
    r.error = (e as Error).message.slice(0, 300);
    plan.log(`learner ${n}: ${r.outcome}: ${r.error}`);
  } finally {
    leave();
    if (conn) await closeShell(conn).catch(() => conn?.close());
    // Stopped even when something failed: capacity goes back to learners still waiting.
    if (r.sessionId) await api.stop(r.sessionId).catch((e: Error) => plan.log(`learner ${n}: stop failed: ${e.message}`));
  }
  return r;
}
