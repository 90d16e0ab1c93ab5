/**
 * The Docker engines of a fleet, as the operator lists them in LABFORGE_DOCKER_ENGINES:
 *
 *   a=unix:///var/run/docker.sock b=tcp://10.0.0.5:2376?tls=/etc/labforge/engine-b c=ssh://labforge@10.0.0.6
 *
 * Space- or comma-separated `name=url`. Checked once, at start: a mistake names the entry and
 * what is wrong with it. lib/environments/docker/engines.ts turns an entry into a connection.
 */
import path from 'node:path';

export interface EngineEntry {
  /** Goes into logs, environment records and metrics. */
  name: string;
  url: string;
}

export class EngineConfigError extends Error {
  constructor(message: string) {
    super(`LABFORGE_DOCKER_ENGINES: ${message}`);
    this.name = 'EngineConfigError';
  }
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,31}$/;

/** `a=unix:///x.sock,b=tcp://h:2376` → entries; empty → none (then the one engine of DOCKER_HOST). */
export function parseEngines(text: string | undefined): EngineEntry[] {
  const seen = new Set<string>();
  return (text ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      if (eq < 1) throw new EngineConfigError(`"${item}" is not name=url (e.g. a=unix:///var/run/docker.sock)`);
      const entry = { name: item.slice(0, eq), url: item.slice(eq + 1) };
      if (!NAME.test(entry.name)) throw new EngineConfigError(`"${entry.name}": a name is letters, digits, - and _ (at most 32)`);
      if (seen.has(entry.name)) throw new EngineConfigError(`"${entry.name}" is listed twice`);
      seen.add(entry.name);
      checkUrl(entry);
      return entry;
    });
}

function checkUrl({ name, url }: EngineEntry): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EngineConfigError(`"${name}": "${url}" is not a URL (unix:///path, tcp://host:port or ssh://user@host)`);
  }
  const bad = (what: string) => new EngineConfigError(`"${name}": ${what}`);
  if (u.protocol === 'unix:') {
    if (!u.pathname || u.pathname === '/') throw bad('unix:// needs a socket path, e.g. unix:///var/run/docker.sock');
  } else if (u.protocol === 'tcp:') {
    if (!u.port) throw bad('tcp:// needs a port (2376 with TLS, 2375 without)');
    const tls = u.searchParams.get('tls');
    if (tls !== null && !path.isAbsolute(tls)) throw bad('?tls= needs an absolute folder (holding ca.pem, cert.pem and key.pem)');
  } else if (u.protocol === 'ssh:') {
    if (!u.username) throw bad('ssh:// needs a user, e.g. ssh://labforge@10.0.0.6');
  } else {
    throw bad(`${u.protocol}// is not an engine address (unix://, tcp:// or ssh://)`);
  }
}
