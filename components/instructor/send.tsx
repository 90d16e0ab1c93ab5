/**
 * The instructor pages' calls to their API: a JSON body, a JSON answer, and for a refusal the
 * server's own message (`{error}`), or one saying the server did not answer.
 */
export type Sent<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: string; data: Record<string, unknown> };

export async function send<T = Record<string, unknown>>(path: string, method: 'POST' | 'PATCH' | 'DELETE' | 'GET', body?: unknown): Promise<Sent<T>> {
  const res = await fetch(path, {
    method,
    cache: 'no-store',
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => undefined);
  if (!res) return { ok: false, status: 0, error: 'The server could not be reached.', data: {} };
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.ok) return { ok: true, status: res.status, data: data as T };
  return { ok: false, status: res.status, error: typeof data.error === 'string' ? data.error : `The server answered ${res.status}.`, data };
}

/** A form's problem, announced (role alert). */
export function FormError({ message }: { message?: string }) {
  return message ? (
    <p role="alert" className="error">
      {message}
    </p>
  ) : null;
}
