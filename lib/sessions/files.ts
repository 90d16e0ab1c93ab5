/**
 * Editor tabs: read and save the one file a tab names, inside its host.
 * Saves carry the version the editor opened; if the file changed underneath
 * (the learner edited it in a terminal), the save is refused instead of clobbering.
 */
import crypto from 'node:crypto';
import { formatBytes, isFileRefused, type Environment, type EnvironmentDriver } from '../environments/driver';
import { SessionError } from './errors';

export interface EditorTarget {
  driver: EnvironmentDriver;
  env: Environment;
  host: string;
  path: string;
}

export interface FileState {
  path: string;
  content: string;
  /** sha256 of the content, or "missing" for a file that does not exist yet. */
  version: string;
}

const MAX_BYTES = 1024 * 1024;
const versionOf = (buf: Buffer) => crypto.createHash('sha256').update(buf).digest('hex');

export async function readTarget(t: EditorTarget): Promise<FileState> {
  // The driver refuses a non-file or a file over the limit before reading it (a FIFO, /dev/zero or a
  // sparse 4 GB file never reaches this process's memory); both are the learner's to fix: 400.
  const buf = await t.driver.readFile(t.env, t.host, t.path, { maxBytes: MAX_BYTES }).catch((e: Error) => {
    if (isFileRefused(e)) {
      if (e.reason === 'too_big' && e.details.size !== undefined)
        throw new SessionError(
          'invalid',
          `${t.path} is ${formatBytes(e.details.size)}: editor files may be at most ${formatBytes(MAX_BYTES)}; edit it in a terminal`,
        );
      throw new SessionError('invalid', e.message);
    }
    if (/no file|not found|No such file/i.test(e.message)) return undefined;
    throw e;
  });
  if (!buf) return { path: t.path, content: '', version: 'missing' };
  if (buf.length > MAX_BYTES) throw new SessionError('invalid', `${t.path} is larger than ${formatBytes(MAX_BYTES)}: edit it in a terminal`);
  return { path: t.path, content: buf.toString('utf8'), version: versionOf(buf) };
}

export async function writeTarget(t: EditorTarget, content: string, baseVersion: string): Promise<FileState> {
  const now = await readTarget(t);
  if (now.version !== baseVersion) {
    throw new SessionError('conflict', `${t.path} changed since you opened it (in a terminal?). Reload it or save again to overwrite.`);
  }
  const buf = Buffer.from(content, 'utf8');
  if (buf.length > MAX_BYTES) throw new SessionError('invalid', 'the file is larger than 1 MiB');
  await t.driver.writeFile(t.env, t.host, t.path, buf, 0o644);
  return { path: t.path, content, version: versionOf(buf) };
}
