/**
 * How one lifecycle script is started inside a host: the trusted runner.
 *
 * Every learner is root in their hosts, so nothing the runner uses may come from the
 * host's own files (docs/security.md). The script runs as
 *
 *   [lf-sandbox] /.labforge/bin/bash --norc --noprofile -c RUNNER labforge-run NAME WORKDIR
 *
 * with its text on stdin and a clean set of variables. The toolbox (environments/docker/toolbox.ts)
 * is a read-only mount of static binaries. A check script's PATH starts with it, so its
 * `grep`, `awk`, `cat`... are busybox's: a fake `sh`, `grep` or `ssh-keygen` earlier on the
 * learner's PATH, a replaced /bin/bash, /etc/ld.so.preload, BASH_ENV or aliases change
 * nothing, as long as the check uses only the toolbox and /proc (a host binary it calls by
 * name or path is the learner's). The script text goes from stdin into the runner's memory,
 * never into a file the learner could edit first.
 *
 * The verdict is the exit status of this very exec, read from the Docker Engine, plus a
 * `FAIL:` line on its stdout pipe: no learner process can print into either. Check scripts
 * run with one capability more than anything a learner can start (learner-side work:
 * terminals, setup, solve, cleanup go through lf-sandbox), so no learner process can
 * ptrace a running check, read its environment or write to its file descriptors.
 *
 * Shebangs: sh, bash, dash and ash scripts run with the toolbox's bash (sh ones in POSIX
 * mode). A script for another interpreter (`#!/usr/bin/env python3`) runs with the host's
 * interpreter, which the learner controls: its verdict is only as good as that host.
 */
import { SANDBOX, TOOLBOX_BIN } from '../environments/driver';
import type { ScriptKind } from '../labs/schema';

export const TOOLBOX_BASH = `${TOOLBOX_BIN}/bash`;
/** Checks: the toolbox first; the host's system folders after it, for tools the toolbox lacks. */
export const CHECK_PATH = `${TOOLBOX_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`;
/**
 * Learner-side scripts run as the learner's own commands would (GNU tools, the host's PATH):
 * the learner could interfere with them anyway. The toolbox comes last, for fail-message.
 */
export const LEARNER_PATH = `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${TOOLBOX_BIN}`;
/** argv strings are limited to 128 KiB by the kernel (MAX_ARG_STRLEN). */
export const MAX_SCRIPT_BYTES = 120 * 1024;

/** Learner-side kinds start what learners then log in through (sshd, listeners): sandboxed. */
export function isLearnerSide(kind: ScriptKind): boolean {
  return kind !== 'check';
}

const RUNNER = `
name=$1 wd=$2
unset BASH_ENV ENV CDPATH GLOBIGNORE
IFS= read -r -d '' script
exec </dev/null
cd -- "$wd" 2>/dev/null || cd /
first=\${script%%$'\\n'*}
interp=
if [[ $first == '#!'* ]]; then
  read -r -a words <<<"\${first#'#!'}"
  interp=\${words[0]##*/}
  if [[ $interp == env ]]; then words=("\${words[@]:1}"); [[ \${words[0]:-} == -S ]] && words=("\${words[@]:1}"); interp=\${words[0]##*/}; fi
fi
case $interp in
  ''|bash) exec ${TOOLBOX_BIN}/bash --norc --noprofile -c "$script" "$name" ;;
  sh|dash|ash) exec ${TOOLBOX_BIN}/bash --posix --norc --noprofile -c "$script" "$name" ;;
  *) exec "\${words[@]}" /proc/self/fd/3 3<<<"$script" ;;
esac
`;

/** The argv of one script run (see the comment at the top). */
export function runnerArgv(kind: ScriptKind, name: string, workdir: string): string[] {
  const argv = [TOOLBOX_BASH, '--norc', '--noprofile', '-c', RUNNER, 'labforge-run', name, workdir];
  return isLearnerSide(kind) ? [SANDBOX, ...argv] : argv;
}

/** The variables a script sees, on top of the host's own (container) environment. */
export function runnerEnv(kind: ScriptKind, base: Record<string, string>): Record<string, string> {
  const PATH = isLearnerSide(kind) ? LEARNER_PATH : CHECK_PATH;
  return { ...base, PATH, HOME: '/root', BASH_ENV: '', ENV: '', LABFORGE_TOOLBOX: TOOLBOX_BIN };
}
