import { describe, expect, it } from 'vitest';
import { gradeAnswers } from '../../lib/checks/grade';
import { gradeSchema, type Grade } from '../../lib/labs/schema';

const grade: Grade = gradeSchema.parse({
  host: 'workstation',
  file: '/root/answers.yaml',
  fields: [
    { name: 'sender', expected: { variable: 'SENDER' }, describe: 'the host that sent to 225.0.0.50' },
    { name: 'message', expected: { variable: 'MESSAGE' } },
    { name: 'group', expected: { literal: '225.0.0.50' } },
    { name: 'port', expected: { regex: '\\d{4,5}' }, describe: 'a port number between 1000 and 99999' },
  ],
});
const vars = { SENDER: 'leia', MESSAGE: 'the eagle has landed' };
const good = 'sender: leia\nmessage: the eagle has landed\ngroup: 225.0.0.50\nport: 1234\n';

const messages = (text: string, g: Grade = grade, v: Record<string, string> = vars) => gradeAnswers(g, text, v).message.split('\n');

describe('gradeAnswers', () => {
  it('passes a correct file, and says so', () => {
    const r = gradeAnswers(grade, good, vars);
    expect(r).toEqual({ passed: true, message: 'answers.yaml: all 4 answers are correct', problems: [] });
  });

  it('names file, line, field, the value given and what was expected (describe)', () => {
    const r = gradeAnswers(grade, good.replace('sender: leia', 'sender: luke'), vars);
    expect(r.passed).toBe(false);
    expect(r.message).toBe('answers.yaml line 1: "sender" is "luke", expected the host that sent to 225.0.0.50');
    expect(r.problems).toEqual([{ field: 'sender', line: 1, message: r.message }]);
  });

  it('never reveals a variable value, but shows a literal', () => {
    const text = 'sender: leia\nmessage: hello there\ngroup: 225.0.0.51\nport: 1234\n';
    expect(messages(text)).toEqual([
      'answers.yaml line 2: "message" is "hello there", which is not the expected value',
      'answers.yaml line 3: "group" is "225.0.0.51", expected "225.0.0.50"',
    ]);
    expect(gradeAnswers(grade, text, vars).message).not.toContain('eagle');
  });

  it('reports missing and empty fields', () => {
    expect(messages('sender: leia\ngroup: 225.0.0.50\nport:\n')).toEqual(['answers.yaml: "message" is missing', 'answers.yaml line 3: "port" is empty']);
    expect(messages('message: ""\nsender: ~\ngroup: 225.0.0.50\nport: 1234\n')).toEqual([
      'answers.yaml line 2: "sender" is empty',
      'answers.yaml line 1: "message" is empty',
    ]);
  });

  it('hints at a field whose name differs only in case', () => {
    expect(messages('Sender: leia\nmessage: the eagle has landed\ngroup: 225.0.0.50\nport: 1234\n')).toEqual([
      'answers.yaml: "sender" is missing (line 1 has "Sender": names must match exactly)',
    ]);
  });

  it('turns malformed YAML into one short line with the line number, no stack trace', () => {
    const r = gradeAnswers(grade, 'sender: leia\nmessage: the eagle has landed\ngroup: port: 1234\n', vars);
    expect(r.passed).toBe(false);
    expect(r.message).toBe('answers.yaml line 3: Nested mappings are not allowed in compact mappings');
    expect(r.problems).toEqual([{ field: '', line: 3, message: r.message }]);
    expect(messages('sender: "leia\n')).toEqual(['answers.yaml line 2: Missing closing "quote']);
    expect(messages('sender: a\nsender: b\n')).toEqual(['answers.yaml line 2: Map keys must be unique']);
  });

  it('wants a mapping', () => {
    expect(messages('- leia\n- luke\n')).toEqual(['answers.yaml must be a YAML mapping of field: value']);
    expect(messages('just some text\n')).toEqual(['answers.yaml must be a YAML mapping of field: value']);
    expect(messages('')).toEqual(['answers.yaml is empty; it must be a YAML mapping of field: value']);
    expect(messages('# only a comment\n')).toEqual(['answers.yaml is empty; it must be a YAML mapping of field: value']);
  });

  it('refuses lists and mappings as values', () => {
    expect(messages('sender: [leia, luke]\nmessage: the eagle has landed\ngroup: 225.0.0.50\nport: 1234\n')).toEqual([
      'answers.yaml line 1: "sender" must be a single value, not a list',
    ]);
    expect(messages('sender:\n  name: leia\nmessage: the eagle has landed\ngroup: 225.0.0.50\nport: 1234\n')).toEqual([
      'answers.yaml line 1: "sender" must be a single value, not a mapping',
    ]);
  });

  it('tolerates surrounding spaces, quotes, block scalars and a trailing newline', () => {
    for (const message of [
      '"the eagle has landed"',
      "'the eagle has landed'",
      `'"the eagle has landed"'`,
      '"  the eagle has landed\\n"',
      '|\n  the eagle has landed\n',
      '>-\n  the eagle\n  has landed\n',
    ]) {
      const text = `sender: "leia"\nmessage: ${message}\ngroup: '225.0.0.50'\nport: 1234\n`;
      expect(gradeAnswers(grade, text, vars), message).toMatchObject({ passed: true });
    }
  });

  it('reads values as typed (no YAML 1.1 surprises) and matches regexes in full', () => {
    const g = gradeSchema.parse({
      host: 'workstation',
      file: '/root/quiz/answers.yml',
      fields: [
        { name: 'port', expected: { literal: '08' } },
        { name: 'ok', expected: { literal: 'yes' } },
        { name: 'id', expected: { regex: '[a-z]+' } },
      ],
    });
    expect(gradeAnswers(g, 'port: 08\nok: yes\nid: abc\n', {}).passed).toBe(true);
    expect(messages('port: 8\nok: true\nid: abc1\n', g, {})).toEqual([
      'answers.yml line 1: "port" is "8", expected "08"',
      'answers.yml line 2: "ok" is "true", expected "yes"',
      'answers.yml line 3: "id" is "abc1", which is not in the expected form',
    ]);
  });

  it('uses describe for regexes and shortens long or multi-line values', () => {
    expect(messages(good.replace('port: 1234', 'port: 80'))).toEqual(['answers.yaml line 4: "port" is "80", expected a port number between 1000 and 99999']);
    const long = 'x'.repeat(200);
    expect(messages(good.replace('sender: leia', `sender: ${long}`))[0]).toBe(
      `answers.yaml line 1: "sender" is "${'x'.repeat(80)}…", expected the host that sent to 225.0.0.50`,
    );
    expect(messages(good.replace('sender: leia', 'sender: |\n  luke\n  leia'))[0]).toBe(
      'answers.yaml line 1: "sender" is "luke…", expected the host that sent to 225.0.0.50',
    );
  });

  it('says when an answer cannot be checked, without blaming the learner', () => {
    expect(messages(good, grade, { SENDER: 'leia' })).toEqual([
      'answers.yaml line 2: "message" cannot be checked right now (session variable MESSAGE is not set); tell your instructor',
    ]);
    const bad = gradeSchema.parse({ host: 'w', file: '/root/a.yaml', fields: [{ name: 'x', expected: { regex: '(' } }] });
    expect(messages('x: 1\n', bad, {})).toEqual(['a.yaml line 1: "x" cannot be checked: the lab\'s pattern for it is invalid; tell the lab author']);
  });

  it('ignores extra fields and says "the answer" for one field', () => {
    const one = gradeSchema.parse({ host: 'w', file: '/root/a.yaml', fields: [{ name: 'x', expected: { literal: '1' } }] });
    expect(gradeAnswers(one, 'note: hi\nx: 1\n', {}).message).toBe('a.yaml: the answer is correct');
  });
});
