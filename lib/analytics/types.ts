/**
 * What the instructors' analytics page shows, as plain data: computed on the server (index.ts),
 * handed to the chart components (components/analytics/, which import these types only).
 */

export const REPORTS = ['funnel', 'times', 'failures', 'quiz', 'starts'] as const;
export type ReportName = (typeof REPORTS)[number];

/** A challenge as the analytics name it: the lab's own, in its order, then any the rows name that the lab no longer has. */
export interface ChallengeRef {
  index: number;
  slug: string;
  title: string;
}

/** Sessions that got to a challenge (any status but `locked`), completed it, or skipped it. */
export interface FunnelRow extends ChallengeRef {
  reached: number;
  completed: number;
  skipped: number;
}

/** Seconds from a challenge's start to its completion, over the sessions that completed it. */
export interface TimeRow extends ChallengeRef {
  completed: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface FailureMessage {
  message: string;
  count: number;
}

/** A challenge's failed Checks: how many in all, and its most frequent messages (whitespace normalized). */
export interface FailureGroup extends ChallengeRef {
  total: number;
  messages: FailureMessage[];
}

export interface QuizChoice {
  index: number;
  text: string;
  /** One of the quiz's right answers (instructors only: this page never reaches learners). */
  correct: boolean;
  picks: number;
}

/** How often each choice of a quiz was picked, over every graded try. */
export interface QuizDistribution extends ChallengeRef {
  /** Graded tries. */
  submissions: number;
  choices: QuizChoice[];
}

export interface DayCount {
  /** YYYY-MM-DD, UTC. */
  day: string;
  starts: number;
}

export interface LabAnalytics {
  lab: { slug: string; title: string };
  invite: { id: string; name: string } | null;
  /** The range, ISO instants: sessions created at or after `from` and before `to`. */
  from: string;
  to: string;
  /** Sessions counted. */
  sessions: number;
  /** More rows matched than are read at once (query.ts caps): the numbers cover the newest ones. */
  truncated: boolean;
  funnel: FunnelRow[];
  times: TimeRow[];
  failures: FailureGroup[];
  quiz: QuizDistribution[];
  starts: DayCount[];
}
