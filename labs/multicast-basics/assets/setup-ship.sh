#!/bin/bash
# Shared track setup for the bases and ships (placed in every one of them through `files:`),
# called by track_scripts/setup-<host> as: setup-ship.sh NAME 'DESCRIPTION'
#
# The welcome text sshd shows when the learner comes aboard, and the folders where the battle's
# listeners keep what they hear. The SSH server itself is the platform's (track.yml: environment.ssh).
set -euo pipefail

name=${1:?usage: setup-ship.sh NAME DESCRIPTION}
description=${2:-}

printf '\n  You are aboard %s: %s\n\n' "$name" "$description" > /etc/motd
install -d -m 755 /var/log/yavin /var/lib/yavin
