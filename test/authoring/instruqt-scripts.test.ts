/**
 * Instruqt scripts → Labforge scripts (lib/authoring/instruqt/scripts.ts): `fail-message` calls
 * become Labforge's `FAIL:` convention wherever they are commands, and nowhere else (strings,
 * comments, here-documents), and the rewritten scripts still run: bash prints the FAIL line
 * and exits 1 where the call was. What a Labforge host cannot do is reported at its line.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { convertScript, rewriteFailMessage } from '../../lib/authoring/instruqt/scripts';
import { formatProblem } from '../../lib/labs/lint';

const bash = (script: string) => {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout };
};

describe('fail-message', () => {
  it.each([
    ['a line of its own', 'fail-message "no file"', '{ echo "FAIL:" "no file"; exit 1; }'],
    ['after ||', "test -f /x || fail-message 'no /x'", 'test -f /x || { echo "FAIL:" \'no /x\'; exit 1; }'],
    ['after then', 'if true; then fail-message "it is true"; fi', 'if true; then { echo "FAIL:" "it is true"; exit 1; }; fi'],
    ['with bare words', 'fail-message the lamp is off', '{ echo "FAIL:" the lamp is off; exit 1; }'],
    ['with $(...) in its message', 'fail-message "got $(cat /x | head -n 1)"', '{ echo "FAIL:" "got $(cat /x | head -n 1)"; exit 1; }'],
    ['without a message', 'false || fail-message', 'false || { echo "FAIL:"; exit 1; }'],
  ])('is rewritten as a command %s', (_, line, want) => {
    expect(rewriteFailMessage(`#!/bin/bash\n${line}\n`)).toEqual({ text: `#!/bin/bash\n${want}\n`, lines: [2] });
  });

  it.each([
    ['inside a string', 'echo "call fail-message when it breaks"'],
    ['in a comment', 'true # fail-message "not this"'],
    ['as an argument', 'grep -q fail-message /etc/motd'],
    ['in a here-document', 'cat >/root/check <<\'EOF\'\nfail-message "for later"\nEOF'],
  ])('is left alone %s', (_, line) => {
    const text = `#!/bin/bash\n${line}\necho done\n`;
    expect(rewriteFailMessage(text)).toEqual({ text, lines: [] });
  });

  it('keeps the script working: the first failure is printed as FAIL: and exits 1, a passing script still passes', () => {
    const script = [
      '#!/bin/bash',
      'CONF=$(mktemp)',
      'echo "state: off" > "$CONF"',
      'if [ ! -f "$CONF" ]; then',
      '    fail-message "There is no lamp.conf"',
      'fi',
      'grep -qx "state: on" "$CONF" || fail-message "The lamp is still off: set \'state: on\'."',
      '',
    ].join('\n');
    const { text, problems } = convertScript(script, 'x/check-keeper');
    expect(text).not.toMatch(/fail-message/);
    expect(bash(text)).toEqual({ code: 1, stdout: "FAIL: The lamp is still off: set 'state: on'.\n" });
    expect(bash(text.replace('state: off', 'state: on'))).toEqual({ code: 0, stdout: '' });
    expect(problems.map(formatProblem)).toEqual([
      'x/check-keeper:5: warning: fail-message (lines 5, 7) → `{ echo "FAIL:" ...; exit 1; }`, Labforge\'s check convention: the learner sees the first FAIL line',
    ]);
  });

  it('is kept as a call, with a warning, when a quote never closes (the toolbox provides it)', () => {
    const text = '#!/bin/bash\necho "unclosed\nfail-message "x"\n';
    const { text: out, problems } = convertScript(text, 'x/check-web');
    expect(out).toBe(text);
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^x\/check-web:3: warning: fail-message is kept as a call/)]);
  });
});

describe('convertScript', () => {
  it('adds a #! line, turns CRLF into LF, makes the Instruqt bootstrap file instead of waiting for it', () => {
    const source = 'set -e\r\nwhile [ ! -f /opt/instruqt/bootstrap/host-bootstrap-completed ]; do sleep 1; done\r\necho ready\r\n';
    const { text, problems } = convertScript(source, 'track_scripts/setup-web');
    expect(text.split('\n').slice(0, 4)).toEqual([
      '#!/bin/bash',
      expect.stringMatching(/^# Instruqt hosts mark/),
      'mkdir -p /opt/instruqt/bootstrap && touch /opt/instruqt/bootstrap/host-bootstrap-completed',
      'set -e',
    ]);
    expect(text).not.toContain('\r');
    expect(problems.map(formatProblem)).toEqual([
      'track_scripts/setup-web:1: warning: Windows line ends (CRLF) turned into LF, which the shell needs',
      'track_scripts/setup-web:1: warning: no #! line: #!/bin/bash added (Labforge runs scripts as executables)',
      'track_scripts/setup-web:2: warning: waits for /opt/instruqt/bootstrap/host-bootstrap-completed, which only Instruqt hosts write: the script now makes it first',
    ]);
  });

  it("reports Instruqt's helpers and variables, and downloads, at their lines", () => {
    const source = [
      '#!/bin/bash',
      'agent variable set TOKEN abc',
      'echo "$INSTRUQT_PARTICIPANT_ID ${INSTRUQT_PARTICIPANT_ID}"',
      'apt-get install -y nginx',
      'curl -fsSL https://example.org/install.sh | sh',
      'curl -s http://web:8080/ # a host of the lab: not a download',
      'set-workdir /root/app',
      '',
    ].join('\n');
    const lines = convertScript(source, 'c/setup-web').problems.map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(/^c\/setup-web:2: error: Instruqt's `agent variable`/),
      "c/setup-web:3: warning: $INSTRUQT_PARTICIPANT_ID is Instruqt's: it is not set on Labforge (empty)",
      expect.stringMatching(/^c\/setup-web:4: warning: downloads from the internet: .*egress: true/),
      expect.stringMatching(/^c\/setup-web:7: error: Instruqt's set-workdir does not exist on Labforge/),
    ]);
  });
});
