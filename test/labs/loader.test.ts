import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../lib/labs/lint';
import { loadLab, loadLabOrThrow, loadLabs } from '../../lib/labs/loader';
import { makeLab, removeLabs } from './tmp-lab';

const FIX = 'test/fixtures/labs';
const GOOD = path.join(FIX, 'good');
const lines = async (dir: string) => (await loadLab(dir)).problems.map(formatProblem);

afterAll(removeLabs);

describe('loadLab on the good fixture', () => {
  it('loads without problems', async () => {
    const r = await loadLab(GOOD);
    expect(r.problems).toEqual([]);
    expect(r.lab?.root).toBe(path.resolve(GOOD));
    expect(r.lab?.track.slug).toBe('good-docker');
    expect(r.lab?.track.environment.hosts.map((h) => h.name)).toEqual(['workstation', 'server']);
  });

  it('yields the challenges in NN order with their index, folder and body', async () => {
    const { challenges } = await loadLabOrThrow(GOOD);
    expect(challenges.map((c) => [c.index, c.dir, c.slug, c.type])).toEqual([
      [0, '01-meet-the-hosts', 'meet-the-hosts', 'challenge'],
      [1, '02-find-the-word', 'find-the-word', 'challenge'],
      [2, '03-quiz', 'quiz', 'quiz'],
    ]);
    expect(challenges[0].body.trim().split('\n')[0]).toBe('Create the file `/root/seen` on the workstation:');
    expect(challenges[0].tabs.map((t) => t.type)).toEqual(['terminal', 'terminal', 'editor']); // `code` is read as editor
    expect(challenges[1].grade?.fields[0].expected).toEqual({ variable: 'SECRET_WORD' });
    expect(challenges[2].solution).toEqual([1]);
  });

  it('maps scripts by kind and host to absolute paths', async () => {
    const lab = await loadLabOrThrow(GOOD);
    const abs = (...p: string[]) => path.resolve(GOOD, ...p);
    expect(lab.challenges[0].scripts).toEqual({
      setup: { workstation: abs('01-meet-the-hosts/setup-workstation') },
      check: { workstation: abs('01-meet-the-hosts/check-workstation'), server: abs('01-meet-the-hosts/check-server') },
      solve: { workstation: abs('01-meet-the-hosts/solve-workstation') },
    });
    expect(lab.challenges[1].scripts).toEqual({
      setup: { server: abs('02-find-the-word/setup-server') },
      solve: { workstation: abs('02-find-the-word/solve-workstation') },
    });
    expect(lab.challenges[2].scripts).toEqual({});
    expect(lab.trackScripts).toEqual({
      setup: { workstation: abs('track_scripts/setup-workstation'), server: abs('track_scripts/setup-server') },
    });
  });

  it('orders challenge folders by their number, not as text', async () => {
    const fm = (slug: string) => `---\nslug: ${slug}\ntitle: ${slug}\n---\nText.\n`;
    const dir = makeLab({
      '01-first/assignment.md': null,
      '01-first/check-workstation': null,
      '01-first/solve-workstation': null,
      '10-ten/assignment.md': fm('ten'),
      '10-ten/check-workstation': { text: '#!/bin/sh\n', mode: 0o755 },
      '2-two/assignment.md': fm('two'),
      '2-two/check-workstation': { text: '#!/bin/sh\n', mode: 0o755 },
    });
    expect((await loadLabOrThrow(dir)).challenges.map((c) => c.slug)).toEqual(['two', 'ten']);
  });
});

describe('loadLab on broken fixtures points at the offending line', () => {
  it.each([
    ['bad-host-name', 'track.yml:8: error: environment.hosts[1].name: must be lowercase letters, digits and dashes, starting with a letter (max 31)'],
    ['unknown-tab-host', '01-first/assignment.md:10: error: tabs[1].hostname: host "workstaton" is not declared in track.yml environment.hosts (did you mean "workstation"?)'],
    ['missing-script-host', '01-first/setup-server:1: error: script setup-server is for host "server", which track.yml does not declare (hosts: workstation)'],
    ['yaml-syntax', 'track.yml:3: error: YAML syntax: this [ is never closed with ] (or what follows is not indented enough)'],
    ['missing-field', '01-first/assignment.md:2: error: title: is required (text)'],
    ['quiz-solution', '02-quiz/assignment.md:10: error: solution[1]: solution 2 is not an index of answers (0..1)'],
    ['missing-asset', 'track.yml:9: error: environment.hosts[0].files[0].from: "assets/missing.txt" not found in the lab folder'],
    ['duplicate-slug', '02-first/assignment.md:2: error: slug: "first" is already used by 01-first/assignment.md: challenge slugs must be unique'],
    ['unknown-key', 'track.yml:3: error: timelimt: unknown field "timelimt" (did you mean "timelimit"?)'],
  ])('%s', async (name, expected) => {
    const r = await loadLab(path.join(FIX, name));
    expect(r.lab).toBeUndefined();
    expect(r.problems.map(formatProblem)).toEqual([`${FIX}/${name}/${expected}`]);
  });
});

describe('schema problems in words, at their line', () => {
  it('reports an unknown driver with the allowed ones', async () => {
    const dir = makeLab({ 'track.yml': 'slug: t\ntitle: T\nenvironment:\n  driver: podman\n  hosts: []\n' });
    expect(await lines(dir)).toEqual([`${dir}/track.yml:4: error: environment.driver: must be one of docker, kind (got "podman")`]);
  });

  it('reports wrong types, bad enum values and a missing tab field', async () => {
    const dir = makeLab({
      '01-first/assignment.md': [
        '---',
        'slug: first',
        'title: First step',
        'timelimit: soon',
        'tabs:',
        '  - title: A',
        '    type: shell',
        '    hostname: workstation',
        '  - title: B',
        '    type: service',
        '    hostname: workstation',
        '---',
        'Text.',
      ].join('\n'),
    });
    expect(await lines(dir)).toEqual([
      `${dir}/01-first/assignment.md:4: error: timelimit: expected a number, got text "soon"`,
      `${dir}/01-first/assignment.md:7: error: tabs[0].type: must be one of "terminal", "editor", "service", "website", "traffic" (got "shell")`,
      `${dir}/01-first/assignment.md:9: error: tabs[1].port: a service tab needs port`,
    ]);
  });

  it('accepts only http(s) URLs for website tabs', async () => {
    const dir = makeLab({
      '01-first/assignment.md': '---\nslug: first\ntitle: First\ntabs:\n  - title: Docs\n    type: website\n    url: javascript:alert(1)\n---\nText.\n',
    });
    expect(await lines(dir)).toEqual([`${dir}/01-first/assignment.md:7: error: tabs[0].url: must be an http:// or https:// URL`]);
  });

  it('loads a kind environment', async () => {
    const dir = makeLab({
      'track.yml': [
        'slug: kind-lab',
        'title: Kind lab',
        'environment:',
        '  driver: kind',
        '  cluster:',
        '    nodes: [{role: control-plane}, {role: worker}]',
        '    addons:',
        '      - {name: cilium, chart: cilium/cilium, version: 1.17.6, values: {routingMode: tunnel}}',
        '  hosts:',
        '    - name: workstation',
        '      image: labforge/base:dev',
        '',
      ].join('\n'),
    });
    const r = await loadLab(dir);
    expect(r.problems).toEqual([]);
    expect(r.lab?.track.environment.driver).toBe('kind');
  });

  it('explains an expected value that matches none of its forms', async () => {
    const dir = makeLab({
      '01-first/assignment.md':
        '---\nslug: first\ntitle: First\ngrade:\n  host: workstation\n  file: /root/a.yml\n  fields:\n    - name: x\n      expected: {literal: a, regex: b}\n---\nText.\n',
    });
    expect(await lines(dir)).toEqual([
      `${dir}/01-first/assignment.md:9: error: grade.fields[0].expected: does not match any allowed form: {variable} | {literal} | {regex}`,
    ]);
  });

  it('counts front matter lines from the top of assignment.md', async () => {
    const dir = makeLab({ '01-first/assignment.md': '---\nslug: first\ntitle: First\ndifficulty: extreme\n---\nText.\n' });
    expect(await lines(dir)).toEqual([
      `${dir}/01-first/assignment.md:4: error: difficulty: must be one of "basic", "intermediate", "advanced" (got "extreme")`,
    ]);
  });

  it('reports missing, unclosed and empty front matter', async () => {
    const none = makeLab({ '01-first/assignment.md': '# Just markdown\n' });
    expect(await lines(none)).toEqual([
      `${none}/01-first/assignment.md:1: error: assignment.md must start with front matter: a line \`---\`, the YAML fields, then \`---\``,
    ]);
    const open = makeLab({ '01-first/assignment.md': '---\nslug: first\ntitle: x\n\nText.\n' });
    expect(await lines(open)).toEqual([
      `${open}/01-first/assignment.md:1: error: front matter opened with \`---\` on line 1 is never closed by another \`---\` line`,
    ]);
    const empty = makeLab({ '01-first/assignment.md': '---\n---\nText.\n' });
    expect(await lines(empty)).toEqual([`${empty}/01-first/assignment.md:2: error: front matter is empty: it needs at least slug and title`]);
  });

  it('reports a YAML syntax error inside front matter at its line in the file', async () => {
    const dir = makeLab({ '01-first/assignment.md': '---\nslug: first\ntitle: First\ntitle: Again\n---\nText.\n' });
    expect(await lines(dir)).toEqual([`${dir}/01-first/assignment.md:4: error: YAML syntax: Map keys must be unique`]);
  });

  it('collects problems from several files in one pass, track.yml first', async () => {
    const dir = makeLab({
      'track.yml': 'slug: Tmp\ntitle: T\nenvironment:\n  driver: docker\n  hosts:\n    - name: workstation\n      image: x\n',
      '01-first/assignment.md': '---\nslug: first\n---\nText.\n',
    });
    expect(await lines(dir)).toEqual([
      `${dir}/track.yml:1: error: slug: must be a lowercase slug (letters, digits, dashes)`,
      `${dir}/01-first/assignment.md:2: error: title: is required (text)`,
    ]);
  });
});

describe('loadLab never throws', () => {
  it('reports a missing folder and a missing track.yml', async () => {
    expect(await lines('/nonexistent/lab')).toEqual(['/nonexistent/lab:1: error: lab folder not found or not readable']);
    const dir = makeLab({ 'track.yml': null });
    expect(await lines(dir)).toEqual([`${dir}/track.yml:1: error: no track.yml: every lab folder needs one (slug, title, environment)`]);
  });

  it('survives an empty track.yml and a YAML alias bomb', async () => {
    const empty = makeLab({ 'track.yml': '' });
    expect(await lines(empty)).toEqual([`${empty}/track.yml:1: error: expected a mapping of fields, got nothing`]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'];
    const dir = makeLab({ 'track.yml': bomb.join('\n') + '\n' });
    expect(await lines(dir)).toEqual([`${dir}/track.yml:1: error: YAML: Excessive alias count indicates a resource exhaustion attack`]);
  });
});

describe('loadLabs and loadLabOrThrow', () => {
  it('loads every folder with a track.yml, keeping broken ones with their problems', async () => {
    const results = await loadLabs(FIX);
    const byName = Object.fromEntries(results.map((r) => [path.basename(r.dir), r]));
    expect(Object.keys(byName)).toContain('good');
    expect(Object.keys(byName)).toContain('unknown-key');
    expect(byName.good.lab?.track.slug).toBe('good-docker');
    for (const [name, r] of Object.entries(byName)) if (name !== 'good') expect(r.lab, name).toBeUndefined();
    expect(await loadLabs('/nonexistent/labs')).toEqual([
      { dir: '/nonexistent/labs', problems: [expect.objectContaining({ message: 'labs folder not found or not readable' })] },
    ]);
  });

  it('throws an error listing every problem', async () => {
    const track = 'slug: t\ntitle: T\ntimelimt: 1\nenvironment:\n  driver: docker\n  hosts:\n    - name: X\n      image: x\n';
    const dir = makeLab({ 'track.yml': track, '01-first/solve-workstation': null });
    // The script check still runs from the raw host list, so the invalid name shows twice.
    await expect(loadLabOrThrow(dir)).rejects.toThrow(
      [
        `lab ${dir} has 3 errors:`,
        `  ${dir}/track.yml:3: timelimt: unknown field "timelimt" (did you mean "timelimit"?)`,
        `  ${dir}/track.yml:7: environment.hosts[0].name: must be lowercase letters, digits and dashes, starting with a letter (max 31)`,
        `  ${dir}/01-first/check-workstation:1: script check-workstation is for host "workstation", which track.yml does not declare (hosts: X)`,
      ].join('\n'),
    );
  });
});
