#!/bin/bash
# messages.sh: the speaking side of the Battle of Yavin, on Kubernetes.
#
# Every line of the battle is sent FROM the pod of the base or ship that speaks it, TO a group:
#
#   printf '%s\n' "$line" | kubectl exec -i <speaker> -- socat -u STDIN UDP4-DATAGRAM:<group>:<port>
#
# Because socat runs inside the speaker's pod, the packet leaves with that pod's address. Cilium's
# datapath on the speaker's node sees a packet for a group it knows, delivers a copy to each local
# subscriber and sends one VXLAN copy to each remote node in the group's subscriber list, where the
# agent hands it to its own subscribers. The speaker never learns who listens.
# Only the group of each transmission is printed, not who spoke: finding that out is challenge 4.
#
#   ./messages.sh             play the battle (DELAY=seconds between lines, default 1.5;
#                             PAUSE=seconds before the first one, default 3)
#
# At the end the Death Star is destroyed: its Deployment is scaled to zero. Played a second time,
# the battle goes on without it.
set -uo pipefail # no -e: one silent ship must not stop the battle
# shellcheck source=SCRIPTDIR/yavin-lib.sh
source /usr/local/lib/yavin/lib.sh

DELAY=${DELAY:-1.5}
PAUSE=${PAUSE:-3}

# speaker|group|port|line   (a speaker is a pod, or deploy/<name> for a base)
BATTLE=(
  'deploy/deathstar|225.0.0.11|6666|🌑 Station to Lord Vader: we are rounding the gas giant. The moon will be in range shortly.'
  'deploy/rebel-base|225.0.0.21|8888|📡 Yavin base to Red Squadron: the station is here. All wings, begin your run.'
  'red-leader|225.0.0.21|8888|🔴 Red Leader here. Stay low, stay tight, and watch those towers.'
  'darth-vader|225.0.0.11|6666|⚫ Their fighters are small enough to slip past the guns. I will go out myself.'
  'obi-wan|225.0.0.42|7777|👻 Luke. Breathe. The answer is not on your screen.'
  'deploy/rebel-base|225.0.0.21|8888|📡 Red Five, we read your targeting computer as switched off. Is something wrong?'
  'luke|225.0.0.21|8888|🚀 Red Five here. All is well, base. I am trusting my own eyes on this one.'
  'darth-vader|225.0.0.11|6666|⚫ That pilot flies like no one I have seen in years.'
  'deploy/rebel-base|225.0.0.22|8888|📡 Yavin base calling the Falcon: if you can hear this, Red Five needs cover.'
  'deploy/deathstar|225.0.0.11|6666|🌑 Superlaser charging. Ninety seconds to firing position.'
  'obi-wan|225.0.0.42|7777|👻 Switch it all off. Feel where the port is.'
  'millenium-falcon|225.0.0.21|8888|🦅 Sorry we are late, kid! Coming down out of the glare, guns hot!'
  'darth-vader|225.0.0.11|6666|⚫ Hold formation. I have him in my sights.'
  'darth-vader|225.0.0.11|6666|⚫ A freighter? Where did that come from?'
  'millenium-falcon|225.0.0.21|8888|🦅 Your tail is clean now, Red Five. Make it count!'
  'deploy/deathstar|225.0.0.11|6666|🌑 Firing position reached. Commence the countdown.'
  'luke|225.0.0.21|8888|🚀 Both torpedoes are in the port. Pulling up!'
  'deploy/deathstar|225.0.0.11|6666|💥 Chain reaction in the reactor shaft. ALL DECKS, ABANDON STA'
  'darth-vader|225.0.0.11|6666|⚫ My controls are gone. I am drifting away from the blast. We will meet again.'
  'red-leader|225.0.0.21|8888|🔴 It is gone! The station is gone! Everyone, regroup and head home.'
  'millenium-falcon|225.0.0.21|8888|🦅 Told you I would not miss the party. The drinks are on the princess.'
  'deploy/rebel-base|225.0.0.22|8888|📡 Falcon, Yavin base: landing bay two is yours. Someone is waiting for you.'
  'obi-wan|225.0.0.42|7777|👻 You listened, Luke. Keep listening, and you will never fly alone.'
  'deploy/rebel-base|225.0.0.21|8888|📡 Yavin base to all wings: the moon is safe. Bring it in.'
)

deathstar_alive() {
  [[ $(kubectl get deployment deathstar -o 'jsonpath={.status.readyReplicas}' 2>/dev/null) -ge 1 ]]
}

if ! kubectl get deployment rebel-base deathstar >/dev/null 2>&1; then
  echo "The bases are not deployed: kubectl apply -f bases.yaml, then kubectl rollout status -f bases.yaml" >&2
  exit 1
fi

echo "Checking who is listening..."
for entry in "${LISTENS[@]}"; do
  read -r ship group <<<"$entry"
  if ! is_local_subscriber "$ship" "$group"; then
    printf '  \e[33mwarning:\e[0m %s is not a subscriber of %s in its Cilium agent (is ./scenario.sh running?)\n' "$ship" "$group"
  fi
done

alive=1
if ! deathstar_alive; then
  alive=0
  echo "  The Death Star has no running pod: only space dust left there. The battle goes on without it."
fi

echo "The battle starts in $PAUSE seconds. Watch the panes of ./scenario.sh."
sleep "$PAUSE"

total=${#BATTLE[@]}
n=0
for entry in "${BATTLE[@]}"; do
  n=$((n + 1))
  IFS='|' read -r speaker group port line <<<"$entry"
  if [[ $speaker == deploy/deathstar ]] && ((!alive)); then
    printf '[%02d/%02d] %s:%s  (silence)\n' "$n" "$total" "$group" "$port"
    continue
  fi
  printf '[%02d/%02d] transmission on %s:%s\n' "$n" "$total" "$group" "$port"
  if ! printf '%s\n' "$line" | kubectl exec -i "$speaker" -- socat -u STDIN "UDP4-DATAGRAM:$group:$port"; then
    printf '        \e[33mwarning:\e[0m that transmission failed (is %s running?)\n' "$speaker"
  fi
  sleep "$DELAY"
done

if ((alive)); then
  kubectl scale deployment deathstar --replicas=0
  printf '\n💥 The Death Star is gone. See for yourself: kubectl get deployments,pods\n'
else
  printf '\nThe battle is over.\n'
fi
