/**
 * The small POSIX sh program that runs one lifecycle script inside a host.
 *
 * It arrives as `sh -c WRAPPER labforge-run ID NAME SECONDS WORKDIR` with the
 * script's text on stdin, so a run costs one exec round trip and the script
 * exists in the host only while it runs. Written for dash and busybox ash
 * (no bash, no GNU-only flags) so lab images need nothing but `sh`.
 *
 * What it does, in order:
 *   1. umask 077; `/run/labforge` (0700, root) and a fresh `/run/labforge/ID` (mkdir fails if
 *      it exists, so nobody can prepare it in advance); removed again on exit.
 *   2. stdin → `/run/labforge/ID/NAME` (0700); (re)installs `/run/labforge/bin/fail-message`
 *      atomically (write + rename) so a stale or edited copy never survives a run.
 *   3. runs the script with stdin /dev/null and stdout/stderr into files, not pipes: a daemon
 *      a setup script leaves behind (`socat ... &`) would otherwise hold the exec open forever.
 *   4. a watchdog counts seconds; on timeout it TERMs, then (after up to 2 s) KILLs, every process carrying this
 *      run's marker (`LABFORGE_RUN_ID=ID` in /proc/PID/environ): the script and all its
 *      descendants, also those that left the process group. `docker exec` clients cannot do
 *      this for us (killing the client leaves the process inside running).
 *   5. prints the captured output (capped) and a trailer on stderr,
 *      `@@labforge:ID:EXIT:TIMEDOUT`, that the platform parses and strips. A missing trailer
 *      means the wrapper itself failed (no /run, no sh, ...), not the script.
 *
 * fail-message: prints `FAIL: <message>` and exits 1, like Instruqt's; being a separate
 * program it cannot end the calling script, so it also drops a `failed` flag in the run folder
 * and the wrapper turns an exit 0 into 1 when the flag is there. A script that calls
 * fail-message can still clean up afterwards, but it can no longer pass.
 */

/** Per stream; enough for any sane script, small enough that a runaway `yes` cannot hurt the platform. */
export const OUTPUT_CAP_BYTES = 256 * 1024;

export const TRAILER = /\n?@@labforge:([0-9a-f]+):(-?\d+):([01])\n?$/;

const FAIL_MESSAGE_HELPER = [
  '#!/bin/sh',
  '# Installed by Labforge for lifecycle scripts: shows its arguments to the learner.',
  'printf "FAIL: %s\\n" "$*"',
  'if [ -n "${LABFORGE_RUN_DIR:-}" ] && [ -d "$LABFORGE_RUN_DIR" ]; then : > "$LABFORGE_RUN_DIR/failed"; fi',
  'exit 1',
].join('\n');

export const WRAPPER = `
id=$1 name=$2 secs=$3 wd=$4
base=/run/labforge
dir=$base/$id
umask 077
mkdir -p "$base/bin" && chmod 700 "$base" || { echo "labforge: cannot create $base" >&2; exit 90; }
mkdir "$dir" || { echo "labforge: cannot create $dir" >&2; exit 90; }
trap 'rm -rf "$dir"' EXIT
trap 'exit 143' HUP INT TERM
cat > "$dir/$name" && chmod 700 "$dir/$name" || { echo "labforge: cannot write $dir/$name" >&2; exit 90; }
cat > "$dir/fm" <<'LABFORGE_FM'
${FAIL_MESSAGE_HELPER}
LABFORGE_FM
chmod 755 "$dir/fm" && mv -f "$dir/fm" "$base/bin/fail-message" || { echo "labforge: cannot install fail-message" >&2; exit 90; }
PATH="$base/bin:\${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
export PATH
cd "$wd" 2>/dev/null || cd /
sweep() {
  found=0
  for e in /proc/[0-9]*/environ; do
    p=\${e#/proc/}; p=\${p%/environ}
    grep -qF "LABFORGE_RUN_ID=$id" "$e" 2>/dev/null && kill "-$1" "$p" 2>/dev/null && found=1
  done
}
LABFORGE_RUN_ID=$id LABFORGE_RUN_DIR=$dir "$dir/$name" </dev/null >"$dir/out" 2>"$dir/err" &
pid=$!
(
  n=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$n" -ge "$secs" ]; then
      : > "$dir/timedout"; sweep TERM
      # Up to 2 s for a polite exit, then KILL whatever is left.
      for i in 1 2 3 4; do sleep 0.5; sweep 0; [ "$found" = 0 ] && exit 0; done
      sweep KILL; exit 0
    fi
    sleep 1; n=$((n + 1))
  done
) </dev/null >/dev/null 2>&1 &
dog=$!
wait "$pid"; rc=$?
if [ -e "$dir/timedout" ]; then wait "$dog"; to=1; else kill "$dog" 2>/dev/null; to=0; fi
if [ "$rc" -eq 0 ] && [ -e "$dir/failed" ]; then rc=1; fi
head -c ${OUTPUT_CAP_BYTES} "$dir/out"
head -c ${OUTPUT_CAP_BYTES} "$dir/err" >&2
printf '\\n@@labforge:%s:%s:%s\\n' "$id" "$rc" "$to" >&2
exit 0
`;
