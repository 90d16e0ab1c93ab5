#!/bin/bash
# Shared track setup for the bases and ships (placed in every one of them through `files:`),
# called by track_scripts/setup-<host> as: setup-ship.sh NAME 'DESCRIPTION'
#
# 1. an SSH server, with a host key of its own (the image ships none);
# 2. the learner's public key, fetched from the workstation (see track_scripts/setup-workstation);
# 3. a welcome text, and the folder where the battle's listeners keep what they hear.
set -euo pipefail

name=${1:?usage: setup-ship.sh NAME DESCRIPTION}
description=${2:-}

# --- 1. sshd -----------------------------------------------------------------------------
[[ -f /etc/ssh/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
install -d -m 755 /run/sshd   # sshd's privilege-separation directory
# Drop-ins are read before sshd_config, and the first value wins.
# UsePAM no: PAM's loginuid module fails in an unprivileged container and would refuse logins.
cat > /etc/ssh/sshd_config.d/yavin.conf <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd yes
PrintLastLog no
X11Forwarding no
CONF

# --- 2. the learner's key ----------------------------------------------------------------
install -d -m 700 /root/.ssh
key=''
for _ in $(seq 1 90); do
  key=$(socat -u TCP:workstation:4242,connect-timeout=2 STDOUT 2>/dev/null || true)
  [[ $key == ssh-ed25519\ * ]] && break
  key=''
  sleep 1
done
if [[ -z $key ]]; then
  echo "FAIL: $name could not fetch the learner's SSH key from workstation:4242 within 90 s" >&2
  exit 1
fi
printf '%s\n' "$key" > /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys

# --- 3. welcome text and log folder ------------------------------------------------------
printf '\n  You are aboard %s: %s\n\n' "$name" "$description" > /etc/motd
install -d -m 755 /var/log/yavin /var/lib/yavin

# Start sshd unless it already runs (the setup may be run again).
if ! { [[ -f /run/sshd.pid ]] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then
  /usr/sbin/sshd
fi
