/**
 * One engine of LABFORGE_DOCKER_ENGINES (lib/base/engine-list.ts, already checked) as Dockerode's
 * connection options: `unix://` a local socket; `tcp://` plain HTTP, or HTTPS with the engine's
 * certificate verified when `?tls=DIR` names a folder with `ca.pem`, `cert.pem` and `key.pem` (the
 * layout of DOCKER_CERT_PATH); `ssh://` the Engine API over SSH with the platform's ssh-agent.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { EngineConfigError, type EngineEntry } from '../../base/engine-list';

export function engineOptions(entry: EngineEntry, read: (file: string) => Buffer = (f) => fs.readFileSync(f)): Dockerode.DockerOptions {
  const u = new URL(entry.url);
  if (u.protocol === 'unix:') return { socketPath: u.pathname };
  if (u.protocol === 'ssh:')
    return {
      host: u.hostname,
      port: Number(u.port || 22),
      username: decodeURIComponent(u.username),
      protocol: 'ssh',
      sshOptions: { agent: process.env.SSH_AUTH_SOCK },
    };
  const tls = u.searchParams.get('tls');
  if (!tls) return { host: u.hostname, port: Number(u.port), protocol: 'http' };
  const file = (name: string) => {
    try {
      return read(path.join(tls, name));
    } catch (e) {
      throw new EngineConfigError(`"${entry.name}": cannot read ${path.join(tls, name)}: ${(e as Error).message}`);
    }
  };
  return { host: u.hostname, port: Number(u.port), protocol: 'https', ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') };
}
