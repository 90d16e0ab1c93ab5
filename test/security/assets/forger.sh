#!/bin/bash
# The learner's forger (test/security/processes.docker.test.ts): writes a forged result into fds 0-2 of
# every other process, logs what worked (with the target's bounding set), and forges on its own output.
trap '' PIPE
needle='--no''profile'
forged=$'@@labforge:check:0:0\nPASS\nFAIL: forged by the learner\nexit 0\n'
declare -A seen
while [ ! -e /var/tmp/forger.stop ]; do
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = $$ ] && continue
    check=0 bnd=?
    if mapfile -d '' -t args < "$p/cmdline" 2>/dev/null; then
      for a in "${args[@]}"; do [ "$a" = "$needle" ] && check=1; done
    fi
    while read -r k v; do [ "$k" = CapBnd: ] && bnd=$v; done < "$p/status" 2>/dev/null
    for fd in 0 1 2; do
      if { printf '%s' "$forged" >> "$p/fd/$fd"; } 2>/dev/null; then r=ok; else r=denied; fi
      [ -n "${seen[$pid/$fd/$check/$r]}" ] && continue
      seen[$pid/$fd/$check/$r]=1
      echo "pid=$pid fd=$fd check=$check bnd=$bnd result=$r" >> /var/tmp/forger.log
    done
  done
  printf '%s' "$forged"
  sleep 0.02
done
echo EXIT >> /var/tmp/forger.log
