/**
 * The physical floor of the echo path on this machine: node-pty running the
 * same `docker exec -it … bash -l`, in this process, with no WebSocket, no
 * server and no xterm. Type a letter, time until the pty hands back its echo.
 * Whatever a web terminal adds comes on top of this.
 */
import pty from 'node-pty';
import { sleep } from '../lib/stats';

export async function dockerExecEchoFloor(execArgs: string[], samples: number, gapMs: number): Promise<number[]> {
  const term = pty.spawn('docker', execArgs, { name: 'xterm-256color', cols: 120, rows: 32, cwd: process.cwd(), env: process.env as Record<string, string>, encoding: null });
  let waiter: { needle: number | null; resolve: (t: number) => void } | undefined;
  let lastData = performance.now();
  term.onData((d: string | Buffer) => {
    const now = performance.now();
    lastData = now;
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    if (waiter && (waiter.needle === null || b.includes(waiter.needle))) {
      waiter.resolve(now);
      waiter = undefined;
    }
  });
  const next = (needle: number | null) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no echo from docker exec within 10 s')), 10_000);
      waiter = {
        needle,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
    });
  try {
    // The login shell's prompt, then quiet.
    await next(null);
    while (performance.now() - lastData < 300) await sleep(50);
    const out: number[] = [];
    for (let i = 0; i < samples + 10; i++) {
      const ch = 'abcdefghijklmnopqrstuvwxyz'.charCodeAt(i % 26);
      const seen = next(ch);
      const t0 = performance.now();
      term.write(String.fromCharCode(ch));
      const t1 = await seen;
      if (i >= 10) out.push(t1 - t0);
      const erased = next(null);
      term.write('\x7f');
      await erased;
      await sleep(gapMs + Math.random() * gapMs);
    }
    term.write('exit\r');
    await sleep(200);
    return out;
  } finally {
    term.kill();
  }
}
