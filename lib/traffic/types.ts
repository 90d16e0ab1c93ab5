/**
 * What `GET /api/v1/sessions/:id/traffic` returns; the Traffic tab imports
 * these types. Times are milliseconds since the epoch.
 */

export interface TrafficSender {
  /** Host name in the lab, or null for an address that is not one of the session's hosts. */
  host: string | null;
  ip: string;
  packets: number;
  bytes: number;
  lastSeen: number;
  /** Destination ports seen from this sender (at most a few). */
  ports: number[];
}

export interface TrafficReceiver {
  host: string | null;
  ip: string;
  /** When the join was seen; for hosts that had joined before the capture started, when that was found out. */
  since: number;
}

export interface TrafficBucket {
  /** Start of the bucket. */
  t: number;
  /** Packets per sender in this bucket, by host name (or address when unnamed). */
  counts: Record<string, number>;
}

export interface TrafficGroup {
  group: string;
  senders: TrafficSender[];
  receivers: TrafficReceiver[];
  /** Non-empty buckets of `bucketMs`, oldest first, within the last `windowMs`. */
  series: TrafficBucket[];
  packets: number;
  lastSeen: number | null;
}

export interface TrafficView {
  groups: TrafficGroup[];
  /** True while the capture runs and its output is being read. */
  capturing: boolean;
  /** When this capture started (or the server picked it up again), null before it has. */
  since: number | null;
  /** Server time of this answer, to draw "12 s ago" without trusting the browser's clock. */
  now: number;
  bucketMs: number;
  windowMs: number;
  /** Why there is no capture, for humans; absent when all is well. */
  problem?: string;
}
