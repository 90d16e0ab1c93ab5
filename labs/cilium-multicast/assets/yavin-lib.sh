# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables below are used by the scripts that source this file
# Helpers for the lab's scripts in the workstation (checks, solves, scenario.sh, messages.sh),
# placed in /usr/local/lib/yavin/lib.sh through files: in track.yml. Sourced, never run.
#
# Everything here reads the cluster through kubectl (the workstation's kubeconfig is the
# cluster admin's). Nothing reads what the learner typed or saw.

CILIUM_NS=kube-system
MCG=isovalentmulticastgroups.isovalent.com
SHIPS=(red-leader millenium-falcon luke obi-wan darth-vader)
# The battle's radio plan: "<ship> <group>" for each group a ship listens on (see scenario.sh).
# Luke also listens on 225.0.0.23, which no IsovalentMulticastGroup lists: Cilium ignores that join.
LISTENS=('red-leader 225.0.0.21' 'millenium-falcon 225.0.0.22' 'luke 225.0.0.42' 'darth-vader 225.0.0.11')
# The groups of multicast-groups.yaml.
LAB_GROUPS=(225.0.0.10 225.0.0.11 225.0.0.12 225.0.0.20 225.0.0.21 225.0.0.22 225.0.0.42)

# "<agent pod> <node>" for each Cilium agent pod whose cilium-agent container is ready.
cilium_agents() {
  kubectl -n "$CILIUM_NS" get pods -l k8s-app=cilium -o json | jq -r '.items[]
    | select(.metadata.deletionTimestamp == null and .status.phase == "Running")
    | select(any(.status.containerStatuses[]?; .name == "cilium-agent" and .ready))
    | "\(.metadata.name) \(.spec.nodeName)"'
}

# The Cilium agent pod on a node (empty when there is none).
agent_on_node() {
  kubectl -n "$CILIUM_NS" get pods -l k8s-app=cilium --field-selector "spec.nodeName=$1" \
    -o 'jsonpath={.items[0].metadata.name}' 2>/dev/null
}

agent_exec() {
  local pod=$1
  shift
  kubectl -n "$CILIUM_NS" exec "$pod" -c cilium-agent -- "$@"
}

# cilium-dbg's subscriber table as "G <group>" and "S <group> <address> Local|Remote" lines
# (the same reading as the reconciler's: a row per group, then a row per extra subscriber).
parse_subscribers() {
  awk '/^[0-9]/ { g = $1; print "G", g; if (NF >= 3) print "S", g, $2, $3; next }
       /^[ \t]+[0-9]/ && g != "" { print "S", g, $1, $2 }'
}

agent_subscribers() {
  local out
  out=$(agent_exec "$1" cilium-dbg bpf multicast subscriber list all) || return 1
  parse_subscribers <<<"$out"
}

# The groups in one agent's BPF multicast map, one per line.
agent_groups() {
  local out
  out=$(agent_exec "$1" cilium-dbg bpf multicast group list) || return 1
  awk '/^[0-9]/ { print $1 }' <<<"$out"
}

# Is kernel release $1 ("5.12.0-19-amd64") at least $2.$3? An unreadable release is not.
kernel_at_least() {
  [[ $1 =~ ^([0-9]+)\.([0-9]+) ]] || return 1
  local major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
  ((major > $2 || (major == $2 && minor >= $3)))
}

# Why the agent POD on NODE has no multicast map, in words. Returns 0 (and prints nothing) when it
# has one, 1 for a lasting cause, 2 for one that may pass (an exec while the agent settles).
# cilium-dbg answers "multicast not enabled" when the map was never made: the agent runs without
# multicast-enabled, or it switched multicast off itself because the kernel lacks the
# bpf_for_each_map_elem helper (before Linux 5.13; its log says "missing kernel support").
multicast_map_problem() {
  local pod=$1 node=$2 out enabled kernel
  out=$(agent_exec "$pod" cilium-dbg bpf multicast group list 2>&1) && return 0
  if [[ $out != *"multicast not enabled"* ]]; then
    echo "cilium-dbg cannot read its multicast map: $(tail -n 1 <<<"$out")"
    return 2
  fi
  enabled=$(kubectl -n "$CILIUM_NS" get configmap cilium-config -o 'jsonpath={.data.multicast-enabled}' 2>/dev/null)
  kernel=$(kubectl get node "$node" -o 'jsonpath={.status.nodeInfo.kernelVersion}' 2>/dev/null)
  if [[ $enabled != true ]]; then
    echo "multicast-enabled is \"${enabled:-not set}\" in the cilium-config ConfigMap"
  elif [[ -n $kernel ]] && ! kernel_at_least "$kernel" 5 13; then
    echo "the node runs Linux $kernel, and Cilium turns multicast off below 5.13 (the agent logs \"Disabled support for BPF Multicast due to missing kernel support\")"
  else
    echo "multicast-enabled is true but the agent runs without it (kubectl -n $CILIUM_NS logs $pod -c cilium-agent | grep -i multicast says why)"
  fi
  return 1
}

# Checks the multicast map of every ready agent. Prints "<node> (<pod>): <why>" for each agent
# without one and returns 1; returns 0 silently when all have it. Tries up to $1 times (default
# 30), 2 s apart, while some failure may still pass; a lasting cause is reported at once.
require_multicast_maps() {
  local tries=${1:-30} try pod node why rc transient agents
  local -a found=()
  for ((try = 1; ; try++)); do
    found=() transient=0 agents=0
    while read -r pod node; do
      [[ -z $pod ]] && continue
      agents=$((agents + 1))
      if why=$(multicast_map_problem "$pod" "$node"); then continue; else rc=$?; fi
      found+=("$node ($pod): $why")
      if ((rc == 2)); then transient=1; fi
    done < <(cilium_agents)
    if ((agents == 0)); then found=("no ready Cilium agent") transient=1; fi
    ((${#found[@]} == 0)) && return 0
    if ((!transient || try >= tries)); then break; fi
    sleep 2
  done
  printf '%s\n' "${found[@]}"
  return 1
}

# A field of a pod in the default namespace (jsonpath), empty when the pod does not exist.
pod_field() { kubectl get pod "$1" -o "jsonpath={$2}" 2>/dev/null; }

pod_running() { [[ $(pod_field "$1" .status.phase) == Running ]]; }

# Prints the groups among "$@" that some ready agent lacks (all of them when no agent is ready).
missing_groups() {
  local line pod node g have agents=0
  local -A miss=()
  while read -r pod node; do
    [[ -z $pod ]] && continue
    agents=$((agents + 1))
    if ! have=$(agent_groups "$pod"); then
      for g in "$@"; do miss[$g]=1; done
      continue
    fi
    for g in "$@"; do
      grep -qxF "$g" <<<"$have" || miss[$g]=1
    done
  done < <(cilium_agents)
  if ((agents == 0)); then
    for g in "$@"; do miss[$g]=1; done
  fi
  for line in "${!miss[@]}"; do echo "$line"; done | sort -t . -k1,1n -k2,2n -k3,3n -k4,4n
}

# Is pod POD a local subscriber (Local Endpoint) of GROUP in the agent of its own node?
is_local_subscriber() {
  local pod=$1 group=$2 ip node agent
  ip=$(pod_field "$pod" .status.podIP)
  node=$(pod_field "$pod" .spec.nodeName)
  [[ -n $ip && -n $node ]] || return 1
  agent=$(agent_on_node "$node")
  [[ -n $agent ]] || return 1
  agent_subscribers "$agent" | grep -qxF "S $group $ip Local"
}

# All local subscribers of GROUP in the cluster: "<address> <node>" lines.
local_subscribers_of() {
  local group=$1 pod node
  while read -r pod node; do
    [[ -z $pod ]] && continue
    agent_subscribers "$pod" 2>/dev/null | awk -v g="$group" -v n="$node" '$1 == "S" && $2 == g && $4 == "Local" { print $3, n }'
  done < <(cilium_agents)
}

# The pod (any namespace) that has address IP: "<namespace>/<name>", empty when none.
pod_by_ip() {
  kubectl get pods -A -o json | jq -r --arg ip "$1" \
    '.items[] | select(.status.podIP == $ip) | "\(.metadata.namespace)/\(.metadata.name)"' | head -n 1
}

# Retries a command once a second: retry SECONDS command...
retry() {
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do
    "$@" && return 0
    sleep 1
  done
  return 1
}

# /proc/net/udp spells a local port as 4 hex digits after the address: ":04D2" is 1234.
udp_port_hex() { printf '%04X' "$1"; }
