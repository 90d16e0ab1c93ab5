/**
 * `labforge import instruqt` without a container engine: the fixture track
 * (test/fixtures/instruqt/lighthouse) becomes a lab that lints clean, with every conversion and
 * every left-out part in the report at its file and line; the exit codes (0 converted, 1 not,
 * 2 usage) through the CLI; and untrusted input (broken YAML, no track.yml, huge files,
 * symlinks) answered with a specific problem, never a crash. That the lab also passes
 * `labforge test` is instruqt.docker.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as importCommand } from '../../cli/commands/import';
import { formatReport, importInstruqt, type ImageProbe, type ImageStatus, type ImportReport } from '../../lib/authoring/instruqt';
import { formatProblem, lintLab } from '../../lib/labs/lint';
import { loadLabOrThrow } from '../../lib/labs/loader';
import { captured } from '../support/cli';

const F = 'test/fixtures/instruqt/lighthouse';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-instruqt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const probe = (answer: (image: string) => ImageStatus): ImageProbe => ({ check: async (image) => answer(image) });
const present = probe(() => ({ status: 'present' }));
let n = 0;
const outDir = () => path.join(tmp, `out-${++n}`);
const lines = (r: ImportReport) => r.problems.map(formatProblem);

/** A copy of the fixture to break; `edit` gets its folder. */
function trackCopy(edit: (dir: string) => void = () => {}): string {
  const dir = path.join(tmp, `track-${++n}`);
  fs.cpSync(F, dir, { recursive: true });
  edit(dir);
  return dir;
}

function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

describe('the fixture track', () => {
  const out = outDir();
  let report: ImportReport;

  it('converts every challenge into a lab that lints without a problem', async () => {
    report = await importInstruqt({ source: F, out, probe: present });
    expect(report).toMatchObject({ ok: true, written: true, slug: 'lighthouse-signals', hosts: ['keeper', 'beacon'], errors: 8, warnings: 18 });
    expect(report.challenges).toEqual([
      { source: '01-light-the-lamp', out: '01-light-the-lamp', slug: 'light-the-lamp', type: 'challenge', converted: true },
      { source: '02-signal-the-beacon', out: '02-signal-the-beacon', slug: 'signal-the-beacon', type: 'challenge', converted: true },
      { source: '03-night-quiz', out: '03-night-quiz', slug: 'night-quiz', type: 'quiz', converted: true },
      { source: '04-log-the-night', out: '04-log-the-night', slug: 'log-the-night', type: 'challenge', converted: true },
    ]);
    expect(await lintLab(out)).toEqual([]);
    expect(files(out)).toEqual([
      '01-light-the-lamp/assignment.md',
      '01-light-the-lamp/check-keeper',
      '01-light-the-lamp/setup-keeper',
      '01-light-the-lamp/solve-keeper',
      '02-signal-the-beacon/assignment.md',
      '02-signal-the-beacon/check-beacon',
      '02-signal-the-beacon/cleanup-beacon',
      '02-signal-the-beacon/setup-beacon',
      '02-signal-the-beacon/solve-keeper',
      '03-night-quiz/assignment.md',
      '04-log-the-night/assignment.md',
      '04-log-the-night/check-keeper',
      '04-log-the-night/cleanup-keeper',
      '04-log-the-night/solve-keeper',
      'assets/lamp-room.png',
      'track.yml',
      'track_scripts/setup-beacon',
      'track_scripts/setup-keeper',
    ]);
  });

  it('maps track.yml, config.yml and the front matter to ours', async () => {
    const lab = await loadLabOrThrow(out);
    expect(lab.track).toMatchObject({
      title: 'Lighthouse Signals',
      level: 'beginner',
      tags: ['linux', 'networking', 'tcp'],
      timelimit: 2400,
      idle_timeout: 900,
    });
    expect(lab.track.environment.hosts.map((h) => [h.name, h.image, h.shell, h.resources.memory, h.env])).toEqual([
      ['keeper', 'labforge/base', '/bin/bash', '256Mi', { LIGHTHOUSE: 'north-cape' }],
      ['beacon', 'labforge/base', '/bin/bash', '128Mi', {}],
    ]);
    const [lamp, beacon, quiz, log] = lab.challenges;
    expect(lamp.tabs).toEqual([
      { title: 'Keeper', type: 'terminal', hostname: 'keeper' },
      { title: 'Lamp settings', type: 'editor', hostname: 'keeper', path: '/root/lamp.conf' },
    ]);
    expect(lamp.notes[1]).toEqual({ type: 'text', contents: '![](https://example.org/lamp-room.png)' });
    expect(beacon.tabs.map((t) => t.type)).toEqual(['terminal', 'terminal', 'website']);
    expect(beacon.difficulty).toBe('basic'); // "easy" was dropped: the default
    expect(quiz).toMatchObject({ type: 'quiz', solution: [0, 2] });
    expect(quiz.answers).toHaveLength(4);
    expect(log.tabs.map((t) => t.type)).toEqual(['terminal']);
    expect(lamp.body).toContain('```run\nsed -i');
  });

  it("rewrites fail-message into FAIL: lines and leaves out the virtual machine's scripts", () => {
    const check = fs.readFileSync(path.join(out, '01-light-the-lamp/check-keeper'), 'utf8');
    expect(check).toContain(`{ echo "FAIL:" "The lamp is still off: set 'state: on' in /root/lamp.conf."; exit 1; }`);
    for (const f of files(out).filter((f) => /\/(setup|check|solve|cleanup)-/.test(f))) {
      expect(fs.statSync(path.join(out, f)).mode & 0o777, f).toBe(0o755);
      expect(fs.readFileSync(path.join(out, f), 'utf8'), f).not.toMatch(/fail-message/);
    }
    expect(fs.readFileSync(path.join(out, 'track_scripts/setup-keeper'), 'utf8')).toContain(
      'touch /opt/instruqt/bootstrap/host-bootstrap-completed\nset -euo pipefail',
    );
  });

  it('reports what it could not convert at file:line, errors apart from warnings', () => {
    expect(lines(report)).toEqual(
      expect.arrayContaining([
        `${F}/track.yml:2: warning: id, type, owner, developers, private, published, checksum: Instruqt's own bookkeeping, no meaning in Labforge: dropped`,
        `${F}/track.yml:28: warning: lab_config: Instruqt's page layout (sidebar, overlay, widths): Labforge has one layout, dropped`,
        expect.stringMatching(`^${F}/config.yml:4: warning: containers\\[0\\]\\.image: "gcr.io/instruqt/cloud-client" runs as labforge/base`),
        expect.stringMatching(`^${F}/config.yml:10: warning: containers\\[1\\]\\.image: "ubuntu:22.04" runs as labforge/base`),
        `${F}/config.yml:16: error: virtualmachines[0]: virtual machine "radar" (image instruqt/ubuntu-2204-radar) is not converted: Labforge runs containers only; its scripts and tabs are left out too`,
        expect.stringMatching(`^${F}/config.yml:21: error: gcp_projects\\[0\\]: Google Cloud project "weather" is not converted`),
        expect.stringMatching(`^${F}/config.yml:25: error: secrets\\[0\\]: secret "HARBOR_TOKEN" is not converted`),
        `${F}/01-light-the-lamp/assignment.md:22: error: tabs[2].hostname: "radar" is a virtual machine, which is not converted: tab not converted`,
        `${F}/01-light-the-lamp/setup-radar:1: error: "radar" is a virtual machine, which is not converted: script not converted`,
        `${F}/02-signal-the-beacon/assignment.md:23: error: tabs[3].type: tab type "browser" has no Labforge equivalent (terminal, code, service, website): tab not converted`,
        `${F}/02-signal-the-beacon/assignment.md:28: warning: an [[ Instruqt-Var ]] placeholder is shown as written: Labforge does not fill it in`,
        expect.stringMatching(`^${F}/04-log-the-night/assignment.md:14: error: tabs\\[1\\]\\.path: "/root/logbook" looks like a folder`),
        expect.stringMatching(`^${F}/01-light-the-lamp/check-keeper:3: warning: fail-message \\(lines 3, 7\\)`),
        `${F}/track_scripts/setup-radar:1: error: "radar" is a virtual machine, which is not converted: script not converted`,
      ]),
    );
    // track.yml first, then config.yml, then the rest in file and line order.
    const order = report.problems.map((p) => path.basename(p.file));
    expect(order.slice(0, 3)).toEqual(['track.yml', 'track.yml', 'track.yml']);
    expect(order.slice(3, 9).every((f) => f === 'config.yml')).toBe(true);
    const text = formatReport(report);
    expect(text.split('\n')[0]).toBe(`Imported ${F} into ${out}: 4 of 4 challenges converted, 2 hosts (keeper, beacon).`);
    expect(text).toContain('Images mapped to labforge/base: gcr.io/instruqt/cloud-client (keeper), ubuntu:22.04 (beacon).');
    expect(text).toContain('8 errors (not converted), 18 warnings (converted with a change): every challenge was converted.');
  });
});

describe('images', () => {
  const withImage = (image: string) =>
    trackCopy((d) => fs.writeFileSync(path.join(d, 'config.yml'), fs.readFileSync(path.join(d, 'config.yml'), 'utf8').replace('ubuntu:22.04', image)));

  it('reports an image the engine neither has nor can pull, at its line', async () => {
    const r = await importInstruqt({
      source: withImage('nginx:1.27-alpine'),
      out: outDir(),
      probe: probe((i) => (i === 'nginx:1.27-alpine' ? { status: 'missing', reason: 'no registry' } : { status: 'present' })),
    });
    expect(lines(r)).toContainEqual(
      expect.stringMatching(
        /config\.yml:10: error: containers\[1\]\.image: image "nginx:1\.27-alpine" is not on this machine and cannot be pulled \(no registry\)/,
      ),
    );
    expect(r.images.map((i) => [i.host, i.status])).toEqual([
      ['keeper', 'mapped'],
      ['beacon', 'missing'],
    ]);
    expect(formatReport(r)).toContain('Images this machine does not have: nginx:1.27-alpine (beacon).');
  });

  it('keeps an image the engine has, and says when the engine does not answer (a warning, not a failure)', async () => {
    const kept = await importInstruqt({ source: withImage('redis:7'), out: outDir(), probe: present });
    expect(lines(kept)).toContainEqual(
      expect.stringMatching(/config\.yml:10: warning: containers\[1\]\.image: "redis:7" is kept; its own command does not run/),
    );
    const r = await importInstruqt({ source: withImage('redis:7'), out: outDir(), probe: probe(() => ({ status: 'unreachable', reason: 'connect ENOENT' })) });
    expect(r.ok).toBe(true);
    expect(lines(r)).toContainEqual(
      expect.stringMatching(/config\.yml:2: warning: containers: the Docker engine did not answer \(connect ENOENT\): images redis:7 were not checked/),
    );
  });
});

describe('labforge import instruqt (the CLI)', () => {
  const cli = (...args: string[]) => captured(() => importCommand(args));

  it('exits 0 when every challenge was converted, and --json prints the report alone', async () => {
    const out = outDir();
    const r = await cli('instruqt', F, '--out', out);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('4 of 4 challenges converted');
    expect(r.stdout).toMatch(/config\.yml:2: warning: containers: the Docker engine did not answer/); // the unit lane has no engine
    const json = await cli('instruqt', F, '--out', outDir(), '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, slug: 'lighthouse-signals', errors: 8 });
  });

  it('exits 1 when a challenge is not converted, and writes the others', async () => {
    const dir = trackCopy((d) =>
      fs.writeFileSync(
        path.join(d, '03-night-quiz/assignment.md'),
        fs.readFileSync(path.join(d, '03-night-quiz/assignment.md'), 'utf8').replace('- 2\n', '- 7\n'),
      ),
    );
    const out = outDir();
    const r = await cli('instruqt', dir, '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${dir}/03-night-quiz/assignment.md:12: error: solution: quiz with solution 7 is not an index of answers (0..3): it could not be graded, challenge not converted`,
    );
    expect(r.stdout).toContain('Not converted: 03-night-quiz.');
    expect(fs.readdirSync(out).sort()).toEqual(['01-light-the-lamp', '02-signal-the-beacon', '04-log-the-night', 'assets', 'track.yml', 'track_scripts']);
  });

  it('exits 1 when a check script is lost: the challenge is written, but not converted', async () => {
    const dir = trackCopy((d) => fs.renameSync(path.join(d, '04-log-the-night/check-keeper'), path.join(d, '04-log-the-night/check-radar')));
    const r = await cli('instruqt', dir, '--out', outDir());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${dir}/04-log-the-night/assignment.md:1: error: its check script check-radar was not converted, so the challenge would pass unchecked`,
    );
  });

  it('refuses a non-empty --out unless --force, which replaces only the lab in it', async () => {
    const out = outDir();
    fs.mkdirSync(path.join(out, '09-stale'), { recursive: true });
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const refused = await cli('instruqt', F, '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`${out}:1: error: ${out} is not empty: pick another --out, or --force to replace the lab in it: nothing written`);
    expect(fs.readdirSync(out).sort()).toEqual(['09-stale', 'notes.txt']);
    const forced = await cli('instruqt', F, '--out', out, '--force');
    expect(forced.code).toBe(0);
    expect(fs.readdirSync(out)).toContain('notes.txt');
    expect(fs.readdirSync(out)).not.toContain('09-stale');
  });

  it('writes to labs/<track slug> by default', async () => {
    const cwd = process.cwd();
    const here = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    process.chdir(here);
    try {
      expect((await cli('instruqt', path.join(cwd, F))).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(fs.existsSync(path.join(here, 'labs/lighthouse-signals/track.yml'))).toBe(true);
  });

  it.each([[[]], [['instruqt']], [['killercoda', F]], [['instruqt', F, 'extra']], [['instruqt', F, '--bogus']]])(
    'exits 2 on a usage mistake: %j',
    async (args) => {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: labforge import instruqt <track-dir>');
    },
  );
});

describe('untrusted input', () => {
  const attempt = async (dir: string) => {
    const out = outDir();
    const r = await importInstruqt({ source: dir, out, probe: present });
    expect(r.ok).toBe(false);
    return { r, lines: lines(r), out };
  };

  it('a folder without track.yml: says so, writes nothing', async () => {
    const { r, lines, out } = await attempt(trackCopy((d) => fs.rmSync(path.join(d, 'track.yml'))));
    expect(lines).toContainEqual(expect.stringMatching(/track-\d+\/track\.yml:1: error: not an Instruqt track folder: it has no track.yml$/));
    expect(r.written).toBe(false);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('broken YAML: the file and the line', async () => {
    const track = await attempt(trackCopy((d) => fs.appendFileSync(path.join(d, 'track.yml'), 'tags: [unclosed\n')));
    expect(track.lines).toContainEqual(expect.stringMatching(/track\.yml:33:\d*:? ?error: YAML syntax: this \[ is never closed/));
    expect(track.r.written).toBe(false);
    const config = await attempt(trackCopy((d) => fs.writeFileSync(path.join(d, 'config.yml'), 'containers:\n- name: keeper\n  image: debian: bookworm\n')));
    expect(config.lines).toContainEqual(expect.stringMatching(/config\.yml:3: error: YAML syntax:/));
    const fm = await attempt(
      trackCopy((d) => fs.writeFileSync(path.join(d, '03-night-quiz/assignment.md'), '---\nslug: night-quiz\ntitle: [oops\n---\nbody\n')),
    );
    expect(fm.lines).toContainEqual(expect.stringMatching(/03-night-quiz\/assignment\.md:3: error: YAML syntax:/));
    expect(fm.lines).toContainEqual(
      expect.stringMatching(/03-night-quiz\/assignment\.md:1: error: its front matter could not be read: challenge not converted$/),
    );
  });

  it('huge files are refused before they are read', async () => {
    const big = await attempt(trackCopy((d) => fs.appendFileSync(path.join(d, 'track.yml'), `# ${'x'.repeat(300 * 1024)}\n`)));
    expect(big.lines).toContainEqual(
      expect.stringMatching(/track\.yml:1: error: is 301 KiB, over the 256 KiB the importer reads for such a file: not imported$/),
    );
    const script = await attempt(trackCopy((d) => fs.appendFileSync(path.join(d, '01-light-the-lamp/check-keeper'), `# ${'x'.repeat(130 * 1024)}\n`)));
    expect(script.lines).toContainEqual(expect.stringMatching(/01-light-the-lamp\/check-keeper:1: error: is 131 KiB, over the 120 KiB/));
    expect(script.lines).toContainEqual(expect.stringMatching(/its check script check-keeper was not converted/));
  });

  it('symlinks are not followed, and a source that is not a folder is named', async () => {
    const dir = trackCopy((d) => fs.symlinkSync('/etc/passwd', path.join(d, 'assets/passwd')));
    const r = await importInstruqt({ source: dir, out: outDir(), probe: present });
    expect(lines(r)).toContainEqual(expect.stringMatching(/assets\/passwd:1: error: is a symlink: not followed, not copied$/));
    expect(fs.existsSync(path.join(r.out!, 'assets/passwd'))).toBe(false);
    const none = await attempt(path.join(tmp, 'no-such-track'));
    expect(none.lines).toEqual([expect.stringMatching(/no-such-track:1: error: not a folder/)]);
  });
});
