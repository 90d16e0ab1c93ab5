/**
 * Variable scopes: which scripts receive which session variable (track.yml `scripts:`), the
 * lint that keeps scripts from reading what they do not receive, and the references of a
 * challenge's `inject:`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { scopedVariables } from '../../lib/checks/variables';
import { expand } from '../../lib/checks/inject';
import { formatProblem, lintLab } from '../../lib/labs/lint';
import { variableSchema } from '../../lib/labs/schema';
import { inScope } from '../../lib/labs/variable-uses';
import { makeLab, MINIMAL, removeLabs } from './tmp-lab';

afterAll(removeLabs);

const vars = [
  { name: 'SECRET', pick: ['x'] },
  { name: 'GIVEN', pick: ['y'], scripts: ['solve-workstation', 'setup'] },
  { name: 'ONE_CHALLENGE', pick: ['v'], scripts: ['exam/solve-workstation', 'track/setup'] },
  { name: 'PUBLIC', value: 'z', secret: false },
  { name: 'LIMITED', value: 'w', secret: false, scripts: ['check'] },
].map((v) => variableSchema.parse(v));
const values = { SECRET: 'x', GIVEN: 'y', ONE_CHALLENGE: 'v', PUBLIC: 'z', LIMITED: 'w' };

describe('scopes', () => {
  it('gives a secret to no script by default, a public one to every script', () => {
    expect(scopedVariables(vars, values, 'check', 'workstation', 'first')).toEqual({ PUBLIC: 'z', LIMITED: 'w' });
    expect(scopedVariables(vars, values, 'setup', 'server', 'first')).toEqual({ GIVEN: 'y', PUBLIC: 'z' });
  });

  it('matches a kind for every host, and kind-host for one host only', () => {
    expect(inScope(vars[1], 'solve', 'workstation', 'first')).toBe(true);
    expect(inScope(vars[1], 'solve', 'server', 'first')).toBe(false);
    expect(inScope(vars[1], 'setup', 'anything', 'first')).toBe(true);
    expect(inScope(vars[4], 'solve', 'workstation', 'first')).toBe(false);
  });

  it('keeps a challenge-qualified scope to that challenge (a solve elsewhere may start daemons that keep it)', () => {
    expect(inScope(vars[2], 'solve', 'workstation', 'exam')).toBe(true);
    expect(inScope(vars[2], 'solve', 'workstation', 'battle')).toBe(false);
    expect(inScope(vars[2], 'setup', 'workstation', 'track')).toBe(true);
    expect(inScope(vars[2], 'setup', 'workstation', 'exam')).toBe(false);
  });

  it('refuses a scope that is not a script kind', () => {
    const r = variableSchema.safeParse({ name: 'A', value: 'b', scripts: ['grade'] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toMatch(/setup, check, solve or cleanup/);
  });
});

const track = (variables: string) => `${MINIMAL['track.yml']}variables:\n${variables}`;

describe('lint', () => {
  it('names the file and line of a script that reads a variable it does not receive', async () => {
    const root = makeLab({
      'track.yml': track('  - name: SECRET_WORD\n    pick: [a, b]\n  - name: SHOWN\n    value: v\n    secret: false\n'),
      '01-first/check-workstation': { text: '#!/bin/bash\n# $SECRET_WORD in a comment is fine\necho "$SHOWN"\n[ "${SECRET_WORD}" = a ]\n', mode: 0o755 },
    });
    const lines = (await lintLab(root)).map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(/01-first\/check-workstation:4: error: uses \$SECRET_WORD, which first\/check-workstation does not receive: a secret variable reaches no script unless/),
    ]);
  });

  it('accepts a script the variable is scoped to', async () => {
    const root = makeLab({
      'track.yml': track('  - name: SECRET_WORD\n    pick: [a, b]\n    scripts: [first/check-workstation]\n'),
      '01-first/check-workstation': { text: '#!/bin/bash\n[ "$SECRET_WORD" = a ]\n', mode: 0o755 },
    });
    expect((await lintLab(root)).filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('checks the variables and host an injection names', async () => {
    const root = makeLab({
      'track.yml': track('  - name: WHO\n    pick: [workstation]\n'),
      '01-first/assignment.md': [
        '---',
        'slug: first',
        'title: First step',
        'inject:',
        '  - { from: "${WHO}", to: "225.0.0.50:1234", payload: "${MISSING} hi" }',
        '  - { from: nowhere, to: "225.0.0.50:1234", payload: "hi" }',
        '---',
        '',
        'Do the thing.',
        '',
      ].join('\n'),
    });
    const lines = (await lintLab(root)).map(formatProblem).join('\n');
    expect(lines).toMatch(/assignment\.md:5: error: .*\$\{MISSING\} is not a variable declared under variables:/);
    expect(lines).toMatch(/assignment\.md:6: error: .*nowhere/);

    const bad = makeLab({
      '01-first/assignment.md': ['---', 'slug: first', 'title: First', 'inject:', '  - { from: workstation, to: "225.0.0.50", payload: "hi" }', '---', '', 'Text.', ''].join('\n'),
    });
    expect((await lintLab(bad)).map(formatProblem)).toEqual([expect.stringMatching(/assignment\.md:5: error: inject\[0\]\.to: must be an IPv4 address and a UDP port/)]);
  });
});

describe('expand', () => {
  it('replaces ${NAME} and refuses an unknown name', () => {
    expect(expand('${A} and ${B}\n', { A: 'one', B: 'two' })).toBe('one and two\n');
    expect(expand('$A stays', { A: 'x' })).toBe('$A stays');
    expect(() => expand('${NOPE}', {})).toThrow(/unknown variable \$\{NOPE\}/);
  });
});
