#!/bin/bash
# scenario.sh: the listening side of the Battle of Yavin.
#
# Opens a tmux session "yavin" with one pane per ship. Each pane is an SSH session into that
# ship running socat as a multicast listener: socat joins the group (that is the IGMP join
# you met in challenge 2), binds the UDP port, and prints every datagram that arrives.
# `tee` also keeps a copy in the ship's /var/log/yavin/comms.log, which the Check reads.
#
#   ./scenario.sh              open (or re-attach to) the battle panes
#   ./scenario.sh --detached   start the panes without attaching (used by the solve script)
#
# Inside tmux: Ctrl-b then an arrow key moves between panes, Ctrl-b d detaches (listeners keep
# running), `tmux kill-session -t yavin` stops every listener.
set -euo pipefail

SESSION=yavin
LOG=/var/log/yavin/comms.log

# The socat listener for one group and port, as run in a ship.
listener() {
  local group=$1 port=$2
  printf 'socat -u UDP4-RECV:%s,reuseaddr,ip-add-membership=%s:0.0.0.0 STDOUT' "$port" "$group"
}

# What each ship runs: its listener(s), piped through tee into the ship's log.
# Luke runs two listeners at once: his squadron radio and the Force.
remote_command() {
  case $1 in
    red-leader)       echo "$(listener 225.0.0.21 8888) | tee -a $LOG" ;;
    millenium-falcon) echo "$(listener 225.0.0.22 8888) | tee -a $LOG" ;;
    luke)             echo "{ $(listener 225.0.0.23 8888) & $(listener 225.0.0.42 7777); } | tee -a $LOG" ;;
    darth-vader)      echo "$(listener 225.0.0.11 6666) | tee -a $LOG" ;;
  esac
}

pane_title() {
  case $1 in
    red-leader)       echo "red-leader   225.0.0.21:8888  (red squadron)" ;;
    millenium-falcon) echo "millenium-falcon   225.0.0.22:8888  (falcon)" ;;
    luke)             echo "luke   225.0.0.23:8888 + 225.0.0.42:7777  (radio + the force)" ;;
    darth-vader)      echo "darth-vader   225.0.0.11:6666  (imperial command)" ;;
  esac
}

# The program a pane runs: show the command, then ssh into the ship with a terminal (-tt), so
# that closing the pane hangs up the remote socat and the ship leaves the group again.
# shellcheck disable=SC2016 # expanded later, by the bash that runs the pane
PANE_PROGRAM='
ship=$1 cmd=$2
printf "\e[1;36m%s\e[0m\n\e[2m$ ssh -tt %s \x27%s\x27\e[0m\n\n" "listening aboard $ship" "$ship" "$cmd"
ssh -tt "$ship" "$cmd"
printf "\n\e[1;31m%s\e[0m\n" "the link to $ship is closed"
'

start_panes() {
  # Size the session like the terminal it will be shown in (when there is one), and give every
  # pane its final size before anything is printed: tmux re-wraps text when a pane is resized,
  # and lines at the top can slide out of sight.
  local cols=160 lines=40 ids=() i ship
  if [[ -t 1 ]]; then
    cols=$(tput cols 2>/dev/null || echo 160)
    lines=$(( $(tput lines 2>/dev/null || echo 41) - 1 ))
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
