#!/bin/bash
# scenario.sh: the listening side of the Battle of Yavin, on Kubernetes.
#
# Opens a tmux session "yavin" with one pane per listening ship. Each pane runs
#   kubectl exec -ti <ship> -- sh -c '<socat listener> | tee -a /var/log/yavin/comms.log'
# so the listener runs INSIDE the ship's pod: the IGMP join comes from the pod, the Cilium agent of
# its node sees it, and records the pod as a Local Endpoint subscriber of the group.
# The copy in the pod's /var/log/yavin/comms.log is how the Check knows what each ship heard.
#
#   ./scenario.sh              open (or re-attach to) the battle panes
#   ./scenario.sh --detached   start the panes without attaching (used by the solve script)
#
# Inside tmux: Ctrl-b then an arrow key moves between panes, Ctrl-b d detaches (listeners keep
# running), `tmux kill-session -t yavin` closes the panes.
set -euo pipefail
# shellcheck source=SCRIPTDIR/yavin-lib.sh
source /usr/local/lib/yavin/lib.sh

SESSION=yavin
LOG=/var/log/yavin/comms.log

# The socat listener for one group and port, as run in a ship.
listener() {
  printf 'socat -u UDP4-RECV:%s,reuseaddr,ip-add-membership=%s:0.0.0.0 STDOUT' "$2" "$1"
}

# What each ship runs. First it stops the listeners of an earlier run: closing a pane ends the
# kubectl client, but the process it started in the pod may keep running.
remote_command() {
  local prep="mkdir -p /var/log/yavin; pkill -x socat 2>/dev/null; sleep 0.2;"
  case $1 in
    red-leader)       echo "$prep $(listener 225.0.0.21 8888) | tee -a $LOG" ;;
    millenium-falcon) echo "$prep $(listener 225.0.0.22 8888) | tee -a $LOG" ;;
    # Luke runs two listeners at once: his squadron radio and the Force.
    luke)             echo "$prep { $(listener 225.0.0.23 8888) & $(listener 225.0.0.42 7777); } | tee -a $LOG" ;;
    darth-vader)      echo "$prep $(listener 225.0.0.11 6666) | tee -a $LOG" ;;
    *) return 1 ;;
  esac
}

pane_title() {
  case $1 in
    red-leader)       echo "red-leader   225.0.0.21:8888  (red squadron)" ;;
    millenium-falcon) echo "millenium-falcon   225.0.0.22:8888  (falcon)" ;;
    luke)             echo "luke   225.0.0.23:8888 + 225.0.0.42:7777  (radio + the force)" ;;
    darth-vader)      echo "darth-vader   225.0.0.11:6666  (imperial command)" ;;
    *) echo "$1" ;;
  esac
}

# The program a pane runs: show the command, then run the listener in the ship's pod.
# shellcheck disable=SC2016 # expanded later, by the bash that runs the pane
PANE_PROGRAM='
ship=$1 cmd=$2
printf "\e[1;36m%s\e[0m\n\e[2m$ kubectl exec -ti %s -- sh -c \x27%s\x27\e[0m\n\n" "listening aboard $ship" "$ship" "$cmd"
kubectl exec -ti "$ship" -- sh -c "$cmd"
printf "\n\e[1;31m%s\e[0m\n" "the link to $ship is closed"
'

# The listeners' joins only count if every agent already has the groups (see challenge 2).
groups_ready() {
  local missing
  missing=$(missing_groups "${LAB_GROUPS[@]}") || return 1
  [[ -z $missing ]]
}

preflight() {
  local ship down=()
  for ship in red-leader millenium-falcon luke darth-vader; do
    pod_running "$ship" || down+=("$ship")
  done
  if ((${#down[@]})); then
    echo "Not running yet: ${down[*]}. Apply ships.yaml and wait: kubectl wait --for=condition=Ready -f ships.yaml" >&2
    exit 1
  fi
  if ! retry 30 groups_ready; then
    echo "The battle's groups are not in every Cilium agent yet, so Cilium would ignore the ships' joins." >&2
    echo "Apply multicast-groups.yaml, wait for PROGRAMMED 3/3 in 'kubectl get imcg', then run ./scenario.sh again." >&2
    exit 1
  fi
}

start_panes() {
  # Size the session like the terminal it will be shown in (when there is one), and give every
  # pane its final size before anything is printed: tmux re-wraps text when a pane is resized.
  local cols=160 lines=40 ids=() i ship
  if [[ -t 1 ]]; then
    cols=$(tput cols 2>/dev/null || echo 160)
    lines=$(($(tput lines 2>/dev/null || echo 41) - 1))
  fi
  ids+=("$(tmux -u new-session -d -P -F '#{pane_id}' -s "$SESSION" -x "$cols" -y "$lines" -- cat)")
  tmux set-option -t "$SESSION" remain-on-exit on >/dev/null
  tmux set-option -t "$SESSION" pane-border-status top >/dev/null
  tmux set-option -t "$SESSION" pane-border-format ' #{pane_title} ' >/dev/null
  tmux set-option -t "$SESSION" mouse on >/dev/null
  for i in 1 2 3; do
    ids+=("$(tmux split-window -P -F '#{pane_id}' -t "$SESSION" -- cat)")
    tmux select-layout -t "$SESSION" tiled >/dev/null
  done
  i=0
  for ship in red-leader millenium-falcon luke darth-vader; do
    tmux select-pane -t "${ids[i]}" -T "$(pane_title "$ship")"
    tmux respawn-pane -k -t "${ids[i]}" -- bash -c "$PANE_PROGRAM" pane "$ship" "$(remote_command "$ship")"
    i=$((i + 1))
  done
  tmux select-pane -t "${ids[0]}"
}

if tmux has-session -t "$SESSION" 2>/dev/null; then
  echo "The battle panes are already open (tmux session \"$SESSION\")."
else
  preflight
  start_panes
  echo "Four ships are now listening (tmux session \"$SESSION\")."
fi

if [[ ${1:-} == --detached ]]; then
  exit 0
elif [[ -n ${TMUX:-} ]]; then
  tmux switch-client -t "$SESSION"
else
  exec tmux -u attach-session -t "$SESSION"
fi
