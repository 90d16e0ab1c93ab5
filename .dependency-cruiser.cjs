/**
 * The layers of Labforge, enforced (`npm run lint:layers`, part of the test command). Lower
 * layers never import higher ones; the browser never gets node-only code. Read from the bottom:
 *
 *   lib/config.ts, lib/log.ts                 base
 *   lib/labs, lib/db, lib/auth                content, storage, identity
 *   lib/environments                          drivers (Docker, Kind) behind the EnvironmentDriver seam
 *   lib/checks, lib/traffic                   what runs in environments
 *   lib/sessions                              the session state machine
 *   lib/terminals, lib/proxy, lib/api, lib/authoring
 *   lib/runtime.ts                            composition of every service
 *   app/, components/, cli/, server.ts        entry points
 *
 * Type-only imports are not dependencies at run time and are not checked (tsPreCompilationDeps off).
 */
const NODE_ONLY = '^(dockerode|node-pty|ws|pino|@prisma|better-sqlite3|@kubernetes|tar-stream|rate-limiter-flexible)';
const above = (...folders) => `^lib/(${folders.join('|')})(/|\\.ts$)`;

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Modules form a tree of layers, not a loop.', from: {}, to: { circular: true } },
    {
      name: 'lib-below-entry-points',
      severity: 'error',
      comment: 'lib/ is used by the app, the CLI and the server; it never imports them.',
      from: { path: '^lib/' },
      to: { path: '^(app|components|cli)/|^server\\.ts$' },
    },
    {
      name: 'base-is-base',
      severity: 'error',
      from: { path: '^lib/(config|log)\\.ts$' },
      to: { path: '^lib/' },
    },
    {
      name: 'labs-db-auth-below-environments',
      severity: 'error',
      comment: 'Lab content, storage and identity know nothing of drivers, checks or sessions.',
      from: { path: '^lib/(labs|db|auth)/' },
      to: { path: above('environments', 'checks', 'traffic', 'sessions', 'terminals', 'proxy', 'api', 'authoring', 'runtime') },
    },
    {
      name: 'drivers-below-checks',
      severity: 'error',
      comment: 'Drivers implement the seam; what runs on top of them is not their business.',
      from: { path: '^lib/environments/' },
      to: { path: above('checks', 'traffic', 'sessions', 'terminals', 'proxy', 'api', 'authoring', 'runtime') },
    },
    {
      name: 'checks-below-sessions',
      severity: 'error',
      from: { path: '^lib/(checks|traffic)/' },
      to: { path: above('sessions', 'terminals', 'proxy', 'api', 'authoring', 'runtime') },
    },
    {
      name: 'sessions-below-transports',
      severity: 'error',
      comment: 'Sessions are driven by the API, terminals and authoring tools, never the other way round.',
      from: { path: '^lib/sessions/' },
      to: { path: above('terminals', 'proxy', 'api', 'authoring', 'runtime') },
    },
    {
      name: 'runtime-composes-alone',
      severity: 'error',
      comment: 'Only the API layer and the entry points reach the composed runtime.',
      from: { path: '^lib/', pathNot: '^lib/api/' },
      to: { path: '^lib/runtime\\.ts$' },
    },
    {
      name: 'browser-imports-browser-safe-modules',
      severity: 'error',
      comment: 'Components run in the browser: from lib/ they take only modules written for it.',
      from: { path: '^components/' },
      to: { path: '^lib/', pathNot: '^lib/(terminals/(client|protocol)|proxy/sandbox)\\.ts$' },
    },
    {
      name: 'browser-safe-modules-stay-browser-safe',
      severity: 'error',
      from: { path: '^(components/|lib/(terminals/(client|protocol)|proxy/sandbox)\\.ts$)' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'browser-safe-modules-no-node-libraries',
      severity: 'error',
      from: { path: '^(components/|lib/(terminals/(client|protocol)|proxy/sandbox)\\.ts$)' },
      to: { path: `node_modules/${NODE_ONLY.slice(1)}` },
    },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(lib/db/generated|node_modules)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
