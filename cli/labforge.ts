/**
 * The `labforge` CLI: serve the platform, lint and test labs, build images.
 * This dispatches; each command lives in cli/commands/ and is loaded only when run
 * (`serve` pulls in the whole server), and `labforge help` lists them.
 */
const HELP = `labforge <command> [options]

  serve [--dev]            start the platform (PORT, LABFORGE_DATA_DIR, LABFORGE_LABS_DIR)
  dev <lab-dir> [--port N] serve one lab in author mode; saved edits reach open sessions at once
  new <slug> [--driver docker|kind] [--dir labs]
                           a new lab in <dir>/<slug>/ that passes lint and test as generated, to edit from
  import instruqt <track-dir> [--out labs/<slug>] [--force] [--json]
                           convert an Instruqt track into a lab; prints file:line: what was not converted
  lint <lab-dir>...        check labs; prints file:line: messages, exits 1 on any error
  images build [name...]   build the built-in host images with no registry (default: all but those that download binaries)
  test <lab-dir> [--json] [--junit FILE]
                           for each challenge: setup, check must fail, solve, check must pass
  tokens create --name NAME (--labs a,b | --all-labs) [--expires 30d] [--terminals] [--json]
                           an API token for a grader, printed once; tokens list [--json]; tokens revoke NAME
  webhooks add --url URL (--labs a,b | --all-labs) [--events e1,e2] [--json]
                           post session events to a grader, signed (secret printed once);
                           webhooks list [--json]; webhooks remove ID; webhooks log ID [--limit N] [--json]
  lti add-platform --name N --issuer URL --client-id ID --auth-login-url URL --auth-token-url URL --jwks-url URL
                           [--deployment-id D]: an LMS launching labs over LTI 1.3 (scores passed back);
                           lti list [--json]; lti remove NAME; lti config (what to enter in the LMS)
  accounts invite EMAIL [--role instructor|admin]
                           a one-time link that sets up an instructor's account (printed);
                           accounts create EMAIL (password on stdin); accounts list; accounts disable|enable EMAIL
  status [--json]          the replicas of this database (live or gone, sessions each is preparing)
                           the job queue (per queue and state, the latest failures and why), the
                           shared warm pool, and webhook/LTI deliveries (by state, the latest failing)
  results LAB [--learner ID] [--since TIME] [--csv | --json]
                           each session's score and, per challenge, attempts, first pass, last failure
  help                     this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./commands/serve')).run(rest);
    case 'dev':
      return (await import('./commands/dev')).run(rest);
    case 'new':
      return (await import('./commands/new')).run(rest);
    case 'import':
      return (await import('./commands/import')).run(rest);
    case 'lint':
      if (!rest.length) return usage('lint needs at least one lab folder, e.g. labforge lint labs/*');
      return (await import('./commands/lint')).run(rest);
    case 'images':
      if (rest[0] !== 'build') return usage('usage: labforge images build [name...]');
      return (await import('./commands/images')).run(rest.slice(1));
    case 'test':
      return (await import('./commands/test')).run(rest);
    case 'tokens':
      return (await import('./commands/tokens')).run(rest);
    case 'results':
      return (await import('./commands/results')).run(rest);
    case 'webhooks':
      return (await import('./commands/webhooks')).run(rest);
    case 'lti':
      return (await import('./commands/lti')).run(rest);
    case 'status':
      return (await import('./commands/status')).run(rest);
    case 'accounts':
      return (await import('./commands/accounts')).run(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(message: string): number {
  process.stderr.write(`labforge: ${message}\n\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`labforge: ${e.message}\n`);
    process.exit(1);
  },
);
