/**
 * One attempt at a delivery: a POST, bounded in time and in what is read back. Redirects are
 * not followed (a 3xx is a failure the operator sees in the log), and of the answer only the
 * status and the start of an error's body are kept.
 */

export interface SendLimits {
  /** The whole attempt: connecting, the answer's headers and what is read of its body. */
  timeoutMs: number;
  /** An error answer's body is read up to this many bytes (for the log), then dropped. */
  maxResponseBytes: number;
}

export interface SendOutcome {
  /** The receiver answered 2xx. */
  ok: boolean;
  /** The receiver's status, or null when it could not be reached or did not answer in time. */
  status: number | null;
  error: string | null;
}

const MAX_ERROR = 300;

export async function post(url: string, headers: Record<string, string>, body: string, limits: SendLimits): Promise<SendOutcome> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
  } catch (e) {
    return { ok: false, status: null, error: reachError(e, limits.timeoutMs) };
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: true, status: res.status, error: null };
  }
  const text = await readSome(res, limits.maxResponseBytes).catch(() => '');
  const detail = text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR);
  return { ok: false, status: res.status, error: `the receiver answered ${res.status}${detail ? `: ${detail}` : ''}` };
}

/** At most `max` bytes of the body, decoded; the rest is never read. */
async function readSome(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, max));
}

/** fetch's errors in words an operator can act on (the cause names the refusal or the DNS failure). */
function reachError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = err.cause?.code ?? err.cause?.message ?? err.message;
  return `could not reach the receiver: ${String(cause).slice(0, MAX_ERROR)}`;
}
