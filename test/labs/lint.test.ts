import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { run as lintCommand } from '../../cli/commands/lint';
import { formatProblem, lintLab, lintPaths } from '../../lib/labs/lint';
import { makeLab, removeLabs } from './tmp-lab';

const FIX = 'test/fixtures/labs';
const lint = async (dir: string) => (await lintLab(dir)).map(formatProblem);
const exe = (text: string) => ({ text, mode: 0o755 });

afterAll(removeLabs);

const TWO_HOSTS = [
  'slug: tmp-lab',
  'title: Temporary lab',
  'variables:',
  '  - name: WORD',
  '    value: plum',
  'environment:',
  '  driver: docker',
  '  hosts:',
  '    - name: workstation',
  '      image: labforge/base:dev',
  '    - name: server',
  '      image: labforge/base:dev',
  '',
].join('\n');

describe('lintLab', () => {
  it('finds nothing in the good fixture', async () => {
    expect(await lintLab(path.join(FIX, 'good'))).toEqual([]);
  });

  it('warns about misspelled scripts, a missing check, modes and an empty body', async () => {
    const dir = makeLab({
      '01-first/assignment.md': '---\nslug: first\ntitle: First\n---\n\n  \n',
      '01-first/check-workstation': null,
      '01-first/chek-workstation': exe('#!/bin/bash\n'),
      '01-first/setup-workstation': { text: '#!/bin/bash\necho hi\n', mode: 0o644 },
      '01-first/notes.txt': 'not a script, no warning',
      '01-first/solver.py': 'not a script either',
    });
    expect(await lint(dir)).toEqual([
      `${dir}/01-first/assignment.md:2: warning: no check-<host> script and no grade: the Check button will let learners through without checking anything`,
      `${dir}/01-first/assignment.md:5: warning: the assignment text below the front matter is empty`,
      `${dir}/01-first/chek-workstation:1: warning: "chek-workstation" looks like a lifecycle script but is never run: scripts are named check-workstation`,
      `${dir}/01-first/setup-workstation:1: warning: setup-workstation is not executable (chmod +x setup-workstation); it still runs, since Labforge sets the mode when copying it in`,
    ]);
    expect((await lintPaths([dir])).errors).toBe(0);
  });

  it('warns about a check without a solve at the check script (or at grade:), but not for quizzes or unchecked challenges', async () => {
    const graded = '---\nslug: graded\ntitle: Graded\ngrade:\n  host: workstation\n  file: /root/a.yml\n  fields: [{name: a, expected: {literal: b}}]\n---\nText.\n';
    const dir = makeLab({
      '01-first/solve-workstation': null,
      '02-graded/assignment.md': graded,
      '03-quiz/assignment.md': '---\nslug: quiz\ntitle: Quiz\ntype: quiz\nanswers: [a, b]\nsolution: [0]\n---\nPick.\n',
      '04-read/assignment.md': '---\nslug: read\ntitle: Read\n---\nJust read.\n',
      '04-read/setup-workstation': exe('#!/bin/bash\n'),
    });
    const noSolve = "warning: no solve-<host> script: `labforge test` cannot prove the check can pass (add one that does the learner's work)";
    expect(await lint(dir)).toEqual([
      `${dir}/01-first/check-workstation:1: ${noSolve}`,
      `${dir}/02-graded/assignment.md:4: ${noSolve.replace('warning: ', 'warning: grade: ')}`,
      `${dir}/04-read/assignment.md:2: warning: no check-<host> script and no grade: the Check button will let learners through without checking anything`,
    ]);
    expect((await lintPaths([dir])).errors).toBe(0);
  });

  it('requires a shebang and names the fix for a .sh suffix or a host typo', async () => {
    const dir = makeLab({
      'track.yml': TWO_HOSTS,
      '01-first/check-workstation': exe('exit 0\n'),
      '01-first/setup-workstation.sh': exe('#!/bin/sh\n'),
      '01-first/solve-sever': exe('#!/bin/sh\n'),
      '01-first/cleanup_server': exe('#!/bin/sh\n'),
    });
    expect(await lint(dir)).toEqual([
      `${dir}/01-first/check-workstation:1: error: check-workstation must start with a shebang line such as #!/bin/bash (it is run as an executable in the host)`,
      `${dir}/01-first/cleanup_server:1: warning: "cleanup_server" looks like a lifecycle script but is never run: scripts are named cleanup-server`,
      `${dir}/01-first/setup-workstation.sh:1: error: scripts have no extension: rename setup-workstation.sh to setup-workstation`,
      `${dir}/01-first/solve-sever:1: error: script solve-sever is for host "sever", which track.yml does not declare (did you mean "server"?)`,
    ]);
  });

  it('keeps files.from inside the lab folder', async () => {
    const outside = makeLab({});
    const dir = makeLab({
      'track.yml': [
        'slug: tmp-lab',
        'title: T',
        'environment:',
        '  driver: docker',
        '  hosts:',
        '    - name: workstation',
        '      image: x',
        '      files:',
        '        - {from: ../secret, to: /root/a}',
        '        - {from: /etc/passwd, to: /root/b}',
        '        - {from: assets/link, to: /root/c}',
        '        - {from: assets, to: /root/d}',
        '        - {from: ., to: /root/e}',
        '',
      ].join('\n'),
      'assets/link': { symlink: path.join(outside, 'track.yml') },
    });
    expect(await lint(dir)).toEqual([
      `${dir}/track.yml:9: error: environment.hosts[0].files[0].from: "../secret" must be a path inside the lab folder (relative, no ..)`,
      `${dir}/track.yml:10: error: environment.hosts[0].files[1].from: "/etc/passwd" must be a path inside the lab folder (relative, no ..)`,
      `${dir}/track.yml:11: error: environment.hosts[0].files[2].from: "assets/link" is a symlink to outside the lab folder`,
      `${dir}/track.yml:13: error: environment.hosts[0].files[4].from: "." is the whole lab folder (scripts and solutions included): name a file or folder in it`,
    ]);
  });

  it('checks hosts and variables named by grades, and duplicates in track.yml', async () => {
    const dir = makeLab({
      'track.yml': TWO_HOSTS + '    - name: server\n      image: y\n',
      '01-first/assignment.md': [
        '---',
        'slug: first',
        'title: First',
        'grade:',
        '  host: db',
        '  file: /root/answer.yml',
        '  fields:',
        '    - name: word',
        '      expected: {variable: WROD}',
        '    - name: other',
        '      expected: {regex: "a(b"}',
        'answers: [a, b]',
        '---',
        'Text.',
      ].join('\n'),
    });
    expect(await lint(dir)).toEqual([
      `${dir}/track.yml:13: error: environment.hosts[2].name: host "server" is declared twice (first at environment.hosts[1])`,
      `${dir}/01-first/assignment.md:5: error: grade.host: host "db" is not declared in track.yml environment.hosts (hosts: workstation, server)`,
      `${dir}/01-first/assignment.md:9: error: grade.fields[0].expected.variable: variable "WROD" is not declared under variables: in track.yml (declared: WORD)`,
      `${dir}/01-first/assignment.md:11: error: grade.fields[1].expected.regex: not a valid regular expression: Invalid regular expression: /a(b/: Unterminated group`,
      `${dir}/01-first/assignment.md:12: warning: answers: answers and solution are only used when type: quiz`,
    ]);
  });

  it('checks challenge folder names against their number and slug', async () => {
    const fm = (slug: string) => `---\nslug: ${slug}\ntitle: ${slug}\n---\nText.\n`;
    const check = exe('#!/bin/sh\n');
    const dir = makeLab({
      '01-first/assignment.md': fm('premier'),
      '01-again/assignment.md': fm('again'),
      '01-again/check-workstation': check,
      '01-again/solve-workstation': check,
      'intro/assignment.md': fm('intro'),
      'intro/check-workstation': check,
      'intro/solve-workstation': check,
      'assets/readme.md': 'not a challenge: no number, no assignment.md',
    });
    expect(await lint(dir)).toEqual([
      `${dir}/01-first/assignment.md:1: error: two challenge folders are numbered 1: 01-again and 01-first; the order would be ambiguous`,
      `${dir}/01-first/assignment.md:2: error: slug: "premier" does not match the folder name 01-first: rename the folder to 01-premier or set slug: first`,
      `${dir}/intro/assignment.md:1: error: challenge folder "intro" must be named NN-<slug> (like 01-intro): the number orders challenges`,
    ]);
  });

  it('checks track_scripts and flags an Instruqt config.yml and a lab without challenges', async () => {
    const dir = makeLab({
      '01-first/assignment.md': null,
      '01-first/check-workstation': null,
      '01-first/solve-workstation': null,
      'config.yml': 'version: "3"\n',
      'track_scripts/setup-workstation': exe('#!/bin/sh\n'),
      'track_scripts/cleanup-db': exe('#!/bin/sh\n'),
      'track_scripts/check-workstation': exe('#!/bin/sh\n'),
      'track_scripts/setpu-workstation': exe('#!/bin/sh\n'),
    });
    expect(await lint(dir)).toEqual([
      `${dir}/track.yml:1: error: the lab has no challenges: add folders like 01-first-step/assignment.md`,
      `${dir}/config.yml:1: warning: config.yml is Instruqt's sandbox file and is ignored: declare hosts under environment: in track.yml`,
      `${dir}/track_scripts/check-workstation:1: warning: only setup-<host> and cleanup-<host> run at track level: check-workstation is never run (check scripts belong in a challenge folder)`,
      `${dir}/track_scripts/cleanup-db:1: error: script cleanup-db is for host "db", which track.yml does not declare (hosts: workstation)`,
      `${dir}/track_scripts/setpu-workstation:1: warning: "setpu-workstation" looks like a lifecycle script but is never run: scripts are named setup-workstation`,
    ]);
  });
});

describe('formatProblem', () => {
  it('prints file:line: severity: message', () => {
    expect(formatProblem({ file: 'labs/x/track.yml', line: 12, column: 9, severity: 'error', message: 'slug: bad' })).toBe(
      'labs/x/track.yml:12: error: slug: bad',
    );
  });
});

describe('labforge lint', () => {
  const run = async (paths: string[]) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const code = await lintCommand(paths, out);
    return { code, text: Buffer.concat(chunks).toString('utf8') };
  };

  it('exits 0 on a good lab and prints the summary', async () => {
    expect(await run([path.join(FIX, 'good')])).toEqual({ code: 0, text: '1 lab, 0 errors, 0 warnings\n' });
  });

  it('exits 1 with errors, one line per problem', async () => {
    expect(await run([path.join(FIX, 'good'), path.join(FIX, 'unknown-key')])).toEqual({
      code: 1,
      text:
        `${FIX}/unknown-key/track.yml:3: error: timelimt: unknown field "timelimt" (did you mean "timelimit"?)\n` +
        '2 labs, 1 error, 0 warnings\n',
    });
  });

  it('exits 0 with warnings only, and accepts a track.yml path', async () => {
    const dir = makeLab({ '01-first/check-workstation': { text: '#!/bin/sh\n', mode: 0o600 } });
    const r = await run([path.join(dir, 'track.yml')]);
    expect(r.code).toBe(0);
    expect(r.text.trim().split('\n').at(-1)).toBe('1 lab, 0 errors, 1 warning');
  });

  it('expands a folder of labs and skips stray files', async () => {
    const labs = fs.readdirSync(FIX).filter((n) => fs.existsSync(path.join(FIX, n, 'track.yml')));
    const summary = await lintPaths([FIX, 'package.json']);
    expect(summary.labs).toBe(labs.length);
    expect(summary.errors).toBe(labs.length - 1); // each broken fixture has exactly one error
    expect(summary.problems.map(formatProblem)).toContain('package.json:1: warning: not a lab folder, skipped');
  });

  it('reports a path that does not exist', async () => {
    expect(await run(['no/such/lab'])).toEqual({ code: 1, text: 'no/such/lab:1: error: not found\n0 labs, 1 error, 0 warnings\n' });
  });
});
