/**
 * What `labforge new` writes (scaffold.ts puts it together): a Docker lab with two hosts and a
 * Kind lab with one workstation, two challenges each. Every script's text here comes after the
 * shebang and the line scaffold.ts adds on what its kind is for. Our own text, kept small: an
 * author is meant to replace it, and it must keep passing `labforge test` as generated.
 */

export interface ChallengeTemplate {
  dir: string;
  frontMatter: string;
  body: string;
  /** `check-workstation` → the script after its shebang and kind comment. */
  scripts: Record<string, string>;
}

export interface Variant {
  teaser: string;
  description: string;
  environment: string;
  challenges: ChallengeTemplate[];
}

/** Kept as an example: a challenge that starts a daemon stops it here (see send-a-message). */
const NOTHING_TO_STOP = '# Nothing of this challenge runs in the background; what it made stays for the next one.\nexit 0\n';

export const DOCKER: Variant = {
  teaser: 'Two hosts, two short challenges. Replace this line with what your lab is about.',
  description: `Learners get a **workstation** and a **server** next to it on a private network. They will:

- create a file on the workstation;
- send a message to the server over TCP.
`,
  environment: `environment:
  driver: docker
  hosts: # scripts run on the hosts in this order
    - name: workstation
      image: labforge/base # Debian with bash, socat, iproute2, tcpdump, curl, jq, tmux, nano...
      resources: { memory: 256Mi, cpus: 0.5, pids: 256 }
    - name: server
      image: labforge/base
      resources: { memory: 128Mi, cpus: 0.25, pids: 128 }
`,
  challenges: [
    {
      dir: '01-first-file',
      frontMatter: `slug: first-file
title: Your first file
teaser: Create a file on the workstation.
tabs:
  - { title: Terminal, type: terminal, hostname: workstation }
`,
      body: `Each challenge is one small task, and **Check** tells you whether it is done.

Create a file \`/root/project/hello.txt\` holding the line \`hello\`:

\`\`\`run
echo hello > /root/project/hello.txt
\`\`\`

Then press **Check**.
`,
      scripts: {
        'setup-workstation': 'set -euo pipefail\nmkdir -p /root/project\n',
        'check-workstation': `# It runs with the toolbox's bash and busybox first in PATH: the learner is root in this host and
# could replace any other program, so use builtins and basic tools (docs/lab-format.md, Scripts).
FILE=/root/project/hello.txt
if [[ ! -f $FILE ]]; then
  echo "FAIL: $FILE does not exist yet"
  exit 1
fi
if ! grep -qx hello "$FILE"; then
  echo "FAIL: $FILE exists but has no line that says just hello"
  exit 1
fi
echo "$FILE says hello"
`,
        'solve-workstation': 'set -euo pipefail\nmkdir -p /root/project\necho hello >/root/project/hello.txt\n',
        'cleanup-workstation': NOTHING_TO_STOP,
      },
    },
    {
      dir: '02-send-a-message',
      frontMatter: `slug: send-a-message
title: Send a message to the server
teaser: Write a message in the editor and send it to the server over TCP.
notes:
  - type: text
    contents: The server is starting a listener on TCP port 7000.
tabs:
  - { title: Terminal, type: terminal, hostname: workstation }
  - { title: Editor, type: editor, hostname: workstation, path: /root/project/message.txt }
`,
      body: `The **server** listens on TCP port \`7000\` and keeps whatever it receives.

1. In the **Editor** tab, write a line that says hello to the server, and save.
2. Send the file from the **Terminal**:

   \`\`\`run
   socat -u FILE:/root/project/message.txt TCP:server:7000
   \`\`\`

3. Press **Check**: it looks on the server for the word \`hello\`.
`,
      scripts: {
        'setup-server': `set -euo pipefail
: >/root/inbox.txt
# setsid -f and no open descriptors: the listener outlives this script without holding its output.
setsid -f socat -u TCP4-LISTEN:7000,reuseaddr,fork OPEN:/root/inbox.txt,append </dev/null >/dev/null 2>&1
# The learner (and \`labforge test\`) must not race the listener: wait until the port listens (7000 = 1B58).
for _ in $(seq 1 50); do
  grep -q ':1B58 00000000:0000 0A' /proc/net/tcp && exit 0
  sleep 0.1
done
echo "the listener on port 7000 did not start" >&2
exit 1
`,
        'check-server': `# fail-message (in every host's toolbox) is the short form: it prints "FAIL: <message>" and exits 1.
INBOX=/root/inbox.txt
[[ -s $INBOX ]] || fail-message "nothing has reached the server yet: send message.txt to port 7000 of the server"
grep -qiw hello "$INBOX" || fail-message "the server got a message, but it does not say hello"
echo "the server got: $(head -n 1 "$INBOX")"
`,
        'solve-workstation': `set -euo pipefail
echo "hello from the workstation" >/root/project/message.txt
socat -u FILE:/root/project/message.txt TCP:server:7000
`,
        'cleanup-server':
          "# ^ anchors the match: the process running this script has the same words in its command line.\npkill -f '^socat -u TCP4-LISTEN:7000' || true\n",
      },
    },
  ],
};

export const KIND: Variant = {
  teaser: 'A small Kubernetes cluster, two short challenges. Replace this line with what your lab is about.',
  description: `Learners get a **workstation** with \`kubectl\` next to a two-node Kind cluster. They will:

- create a namespace;
- edit a ConfigMap manifest and apply it.
`,
  environment: `environment:
  driver: kind
  cluster:
    # Kind's own pod network (kindnet) and kube-proxy: nothing to install. For another CNI, set
    # disableDefaultCNI: true and list it under addons: (docs/lab-format.md).
    nodes:
      - { role: control-plane }
      - { role: worker }
    disableDefaultCNI: false
    kubeProxyMode: iptables
  hosts: # on the kind network, with the cluster's kubeconfig at /root/.kube/config
    - name: workstation
      image: labforge/k8s-workstation # bash, kubectl, jq: a local image (see labs/cilium-multicast/README.md)
      resources: { memory: 512Mi, cpus: 1, pids: 512 }
`,
  challenges: [
    {
      dir: '01-namespace',
      frontMatter: `slug: namespace
title: A namespace of your own
teaser: Create the namespace the next challenge works in.
tabs:
  - { title: Terminal, type: terminal, hostname: workstation }
`,
      body: `Create a namespace called \`practice\`:

\`\`\`run
kubectl create namespace practice
\`\`\`

Then press **Check**.
`,
      scripts: {
        'setup-workstation': 'set -euo pipefail\nkubectl wait --for=condition=Ready nodes --all --timeout=300s\n',
        'check-workstation': `# On Kind the check asks the cluster with kubectl, the host's own program: the learner (root here)
# could replace it, which is fine for practice and not for an exam (docs/security.md).
if ! kubectl get namespace practice >/dev/null 2>&1; then
  echo "FAIL: there is no namespace practice yet"
  exit 1
fi
echo "namespace practice exists"
`,
        'solve-workstation': 'set -euo pipefail\nkubectl create namespace practice --dry-run=client -o yaml | kubectl apply -f -\n',
        'cleanup-workstation': NOTHING_TO_STOP,
      },
    },
    {
      dir: '02-configmap',
      frontMatter: `slug: configmap
title: Apply a ConfigMap
teaser: Fill in a manifest in the editor and apply it.
tabs:
  - { title: Terminal, type: terminal, hostname: workstation }
  - { title: Editor, type: editor, hostname: workstation, path: /root/greeting.yaml }
`,
      body: `The **Editor** tab holds a ConfigMap manifest. Write a greeting as its \`message\`, save, and apply it:

\`\`\`run
kubectl apply -f /root/greeting.yaml
\`\`\`

Then press **Check**.
`,
      scripts: {
        'setup-workstation': `set -euo pipefail
cat >/root/greeting.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
  namespace: practice
data:
  message: ""
YAML
`,
        'check-workstation': `if ! msg=$(kubectl -n practice get configmap greeting -o 'jsonpath={.data.message}' 2>/dev/null); then
  echo "FAIL: there is no ConfigMap greeting in the namespace practice yet: kubectl apply -f /root/greeting.yaml"
  exit 1
fi
if [[ -z $msg ]]; then
  echo "FAIL: the ConfigMap greeting has an empty message: write one in greeting.yaml and apply it again"
  exit 1
fi
echo "the greeting says: $msg"
`,
        'solve-workstation': `set -euo pipefail
sed -i 's/^  message: .*/  message: "hello from the workstation"/' /root/greeting.yaml
kubectl apply -f /root/greeting.yaml
`,
        'cleanup-workstation': NOTHING_TO_STOP,
      },
    },
  ],
};
