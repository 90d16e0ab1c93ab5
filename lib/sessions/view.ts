/**
 * What the browser and API clients see of a session. Built from the DB row and
 * the lab; secrets (session variables, quiz solutions, script output) never
 * appear here.
 */
import type { ProgressStep } from '../environments/driver';
import type { Challenge, Lab, Tab } from '../labs/schema';
import type { LiveLabStatus } from '../labs/live-catalog';
import type { ProgressRow, SessionRow } from '../db/client';
import { publicQuiz, type PublicQuiz } from '../checks/quiz';
import type { LearnerMessage } from './messages';
import { hostNames, hostsView, parseHosts, type HostView } from './hosts';

export type SessionStatus = 'provisioning' | 'active' | 'completed' | 'expired' | 'failed' | 'stopped';
export const LIVE_STATUSES: SessionStatus[] = ['provisioning', 'active'];

export interface TabView extends Omit<Tab, 'type'> {
  id: string;
  type: Tab['type'];
}

export interface ChallengeView {
  index: number;
  slug: string;
  title: string;
  type: 'challenge' | 'quiz';
  teaser: string;
  body: string;
  notes: string[];
  tabs: TabView[];
  quiz?: PublicQuiz;
  /** The answer file a declarative grade reads, e.g. /root/answers.yaml. */
  gradeFile?: string;
}

/**
 * A start that waits, live from the server's queues: for room on the server (memory, freed when
 * other sessions end: no estimate) or for its turn to be prepared (an estimate from how long
 * recent preparations took, once there are some).
 */
export interface QueueView {
  /** `replica`: its job waits in the database for a replica to take it (several replicas only). */
  waitingFor: 'room' | 'turn' | 'replica';
  /** 1-based. */
  position: number;
  /** Ms until the environment should be ready. */
  estimateMs?: number;
}

export interface SessionView {
  id: string;
  lab: string;
  labTitle: string;
  status: SessionStatus;
  error?: string;
  /** Slug of the current challenge. */
  challenge: string | null;
  index: number;
  challenges: { slug: string; title: string; status: string; attempts: number }[];
  current?: ChallengeView;
  progress: ProgressStep[];
  /** While provisioning waits in a queue (a single session's view). */
  queue?: QueueView;
  /** Every host of the lab: running or stopped, and what the platform noticed about it. */
  hosts: HostView[];
  createdAt: string;
  startedAt?: string;
  expiresAt?: string;
  /** Whether the one extension of the time limit is still available. */
  canExtend: boolean;
  skippingEnabled: boolean;
  /** The latest messages from instructors (only in a single session's view, not in lists). */
  messages?: LearnerMessage[];
  /** `labforge dev` only (a single session's view): the watched lab, for the page's author banner. */
  author?: AuthorView;
}

export interface AuthorView extends LiveLabStatus {
  /** Server-sent events, one each time the lab's files were looked at again: the page re-reads the session then. */
  events: string;
}

export const tabId = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'tab';

/**
 * The tab of this type (and id) a session on challenge `reached` may use: the first one declared by
 * that challenge or an earlier one. Later challenges' tabs do not exist yet for the learner (the
 * exam's answer file, its traffic), so every resolver asks here and answers 404 otherwise. Earlier
 * challenges' tabs stay reachable, as they were when the learner was there.
 */
export function reachableTab(lab: Lab, reached: number, type: Tab['type'], id?: string): Tab | undefined {
  return lab.challenges
    .slice(0, reached + 1)
    .flatMap((c) => c.tabs)
    .find((t) => t.type === type && (id === undefined || tabId(t.title) === id));
}

/** `attemptsUsed`: the session's tries at this challenge, so a quiz can say what is left. */
export function challengeView(c: Challenge, attemptsUsed = 0): ChallengeView {
  return {
    index: c.index,
    slug: c.slug,
    title: c.title,
    type: c.type,
    teaser: c.teaser,
    body: c.body,
    notes: c.notes.map((n) => n.contents),
    tabs: c.tabs.map((t) => ({ ...t, id: tabId(t.title) })),
    quiz: c.type === 'quiz' ? publicQuiz(c, attemptsUsed) : undefined,
    gradeFile: c.grade?.file,
  };
}

export function sessionView(row: SessionRow, lab: Lab, progress: ProgressRow[]): SessionView {
  const current = lab.challenges[row.currentIndex];
  const byIndex = new Map(progress.map((p) => [p.index, p]));
  return {
    id: row.id,
    lab: lab.track.slug,
    labTitle: lab.track.title,
    status: row.status as SessionStatus,
    error: row.error ?? undefined,
    challenge: current?.slug ?? null,
    index: row.currentIndex,
    challenges: lab.challenges.map((c) => ({
      slug: c.slug,
      title: c.title,
      status: byIndex.get(c.index)?.status ?? 'locked',
      attempts: byIndex.get(c.index)?.attempts ?? 0,
    })),
    current: current ? challengeView(current, byIndex.get(current.index)?.attempts) : undefined,
    progress: JSON.parse(row.progress) as ProgressStep[],
    hosts: hostsView(parseHosts(row.hosts), hostNames(lab)),
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString(),
    expiresAt: row.expiresAt?.toISOString(),
    canExtend: row.status === 'active' && row.extensions < 1,
    skippingEnabled: lab.track.skipping_enabled,
  };
}
