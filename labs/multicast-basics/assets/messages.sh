#!/bin/bash
# messages.sh: the speaking side of the Battle of Yavin.
#
# Every line of the battle is sent FROM the base or ship that speaks it, TO a multicast group:
#
#   printf '%s\n' "$line" | ssh <speaker> socat -u STDIN UDP4-DATAGRAM:<group>:<port>
#
# Going through ssh makes the speaker's own kernel send the datagram, so its source address is
# the speaker's, exactly as if the ship's radio had sent it. The sender never learns who listens:
# it sends one packet to the group, and every host that joined the group gets a copy.
# This script only prints the group of each transmission, not who spoke: finding that out is
# your job in challenge 4.
#
#   ./messages.sh             play the battle (DELAY=seconds between lines, default 1.5;
#                             PAUSE=seconds before the first one, default 3)
#
# At the end the Death Star is destroyed: its SSH server stops and it never answers again.
# Played a second time, the battle goes on without it.
set -uo pipefail # no -e: one silent ship must not stop the battle

DELAY=${DELAY:-1.5}
PAUSE=${PAUSE:-3}

# speaker|group|port|line
BATTLE=(
  'deathstar|225.0.0.11|6666|🌑 Station to Lord Vader: the rebel moon will be in firing range in a few minutes.'
  'rebel-base|225.0.0.21|8888|📡 Red Squadron, Yavin base: the station is closing in. Begin your attack run.'
  'red-leader|225.0.0.21|8888|🔴 Red Leader copies. Down into the trench, everyone. Keep it tight.'
  'darth-vader|225.0.0.11|6666|⚫ Their little fighters are a nuisance. I will deal with them myself.'
  'obi-wan|225.0.0.42|7777|👻 Luke... the screens will not save you. Listen.'
  'rebel-base|225.0.0.21|8888|📡 Red Five, your targeting computer just went dark. Red Five, respond!'
  'luke|225.0.0.21|8888|🚀 Red Five here. Nothing is wrong. I am flying this one by feel.'
  'darth-vader|225.0.0.11|6666|⚫ The pilot in front is different from the others. I can sense it.'
  'rebel-base|225.0.0.22|8888|📡 Falcon, if you are still out there: Red Five is alone in the trench.'
  'deathstar|225.0.0.11|6666|🌑 Main reactor charging. Firing solution on the moon: locked.'
  'obi-wan|225.0.0.42|7777|👻 Let the instruments go dark. What you feel is enough.'
  'millenium-falcon|225.0.0.21|8888|🦅 Somebody call for a freighter? Coming in out of the sun!'
  'darth-vader|225.0.0.11|6666|⚫ I have him lined up. One moment more...'
  'darth-vader|225.0.0.11|6666|⚫ What? A freighter, out of nowhere!'
  'millenium-falcon|225.0.0.21|8888|🦅 The trench is clear, Red Five. Take your shot and let us go home!'
  'deathstar|225.0.0.11|6666|🌑 Firing sequence started. Ten seconds.'
  'luke|225.0.0.21|8888|🚀 Torpedoes away... and they are in!'
  'deathstar|225.0.0.11|6666|💥 Core breach on every deck. THE STATION IS BREAKING APART.'
  'darth-vader|225.0.0.11|6666|⚫ My fighter is spinning away into the dark. This is not over.'
  'red-leader|225.0.0.21|8888|🔴 Direct hit! The station is gone. All fighters, head for home.'
  'millenium-falcon|225.0.0.21|8888|🦅 Not bad for a farm boy. First round is on me.'
  'rebel-base|225.0.0.22|8888|📡 Falcon, Yavin base: the princess is waiting for you on the landing pad.'
  'obi-wan|225.0.0.42|7777|👻 Well done, Luke. Whatever comes next, you will not face it alone.'
  'rebel-base|225.0.0.21|8888|📡 All wings, Yavin base: the moon is safe. Welcome home.'
)

# Who is expected to listen where (see scenario.sh); only used to warn before the battle.
LISTENERS=('red-leader 225.0.0.21' 'millenium-falcon 225.0.0.22' 'luke 225.0.0.42' 'darth-vader 225.0.0.11')

# /proc/net/igmp prints a group as its 4 bytes read as a little-endian number:
# 225.0.0.21 (E1 00 00 15) appears as 150000E1.
igmp_hex() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  printf '%02X%02X%02X%02X' "$d" "$c" "$b" "$a"
}

reachable() { ssh -n -o ConnectTimeout=3 "$1" true 2>/dev/null; }

echo "Checking who is listening..."
for entry in "${LISTENERS[@]}"; do
  read -r ship group <<<"$entry"
  if ! ssh -n "$ship" cat /proc/net/igmp 2>/dev/null | grep -q "$(igmp_hex "$group")"; then
    printf '  \e[33mwarning:\e[0m %s has not joined %s (is ./scenario.sh running?)\n' "$ship" "$group"
  fi
done

deathstar_alive=1
if ! reachable deathstar; then
  deathstar_alive=0
  echo "  The Death Star does not answer: only space dust left there. The battle goes on without it."
fi

echo "The battle starts in $PAUSE seconds. Watch the panes of ./scenario.sh."
sleep "$PAUSE"

total=${#BATTLE[@]}
n=0
for entry in "${BATTLE[@]}"; do
  n=$((n + 1))
  IFS='|' read -r speaker group port line <<<"$entry"
  if [[ $speaker == deathstar ]] && ((!deathstar_alive)); then
    printf '[%02d/%02d] %s:%s  (silence)\n' "$n" "$total" "$group" "$port"
    continue
  fi
  printf '[%02d/%02d] transmission on %s:%s\n' "$n" "$total" "$group" "$port"
  if ! printf '%s\n' "$line" | ssh "$speaker" socat -u STDIN "UDP4-DATAGRAM:$group:$port"; then
    printf '        \e[33mwarning:\e[0m that transmission failed (cannot reach its sender)\n'
  fi
  sleep "$DELAY"
done

if ((deathstar_alive)); then
  # The station is gone: it records its end, then stops its SSH server (by the pid file, so only
  # the server's listening process goes; this very session ends normally).
  ssh deathstar 'date -u +%FT%TZ > /var/lib/yavin/destroyed; kill "$(cat /run/sshd.pid)"' || true
  printf '\n💥 The Death Star is gone. See for yourself: ssh deathstar\n'
else
  printf '\nThe battle is over.\n'
fi
