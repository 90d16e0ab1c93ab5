/**
 * The layers of Labforge, enforced (`npm run lint:layers`, part of the test command). Lower
 * layers never import higher ones; the browser never gets node-only code. Read from the bottom:
 *
 *   lib/base                                  configuration, logging, small helpers
 *   lib/labs, lib/db, lib/auth,               content, storage, identity, the job queue and
 *   lib/jobs, lib/replicas                    the replicas sharing the database (and their terminals)
 *   lib/environments                          the EnvironmentDriver seam; docker/ and kind/ behind it
 *   lib/checks, lib/traffic                   what runs in environments
 *   lib/sessions                              the session state machine
 *   lib/webhooks, lib/results, lib/analytics  session events posted to graders, results and analytics read for them (the database only)
 *   lib/observability                         metrics and readiness: what sessions report, levels read from the services
 *   lib/terminals, lib/http, lib/lti,         transports and tools that drive sessions (lib/lti: LMS launches and
 *   lib/authoring                             score passback over LTI 1.3)
 *   lib/runtime                               composition of every service, and its shutdown
 *   app/, components/, cli/, server.ts        entry points
 *
 * Type-only imports (`import type`) are erased at build time: they count for the seam between drivers
 * and the rest (a type is knowledge of a backend too), not for the browser rules or for cycles.
 */
const NODE_ONLY = '^(dockerode|node-pty|ws|pino|@prisma|better-sqlite3|pg|@kubernetes|tar-stream|rate-limiter-flexible|prom-client)';
/** The layers above base, bottom first (folders of one layer together); each rule below names its layer. */
const LAYERS = [
  ['labs', 'db', 'auth', 'accounts', 'jobs', 'replicas'],
  ['environments'],
  ['checks', 'traffic'],
  ['sessions'],
  ['webhooks', 'results', 'analytics', 'instructors', 'observability'],
  ['terminals', 'http', 'lti', 'authoring'],
  ['runtime'],
];
/** The folders of `folder`'s layer, and a pattern for every folder of the layers above it. */
const layerOf = (folder) => LAYERS.findIndex((l) => l.includes(folder));
const inLayerOf = (folder) => `^lib/(${LAYERS[layerOf(folder)].join('|')})/`;
const aboveLayerOf = (folder) =>
  `^lib/(${LAYERS.slice(layerOf(folder) + 1)
    .flat()
    .join('|')})/`;
/** Written for the browser as well: no Node built-ins, no node-only libraries, nothing else from lib/. */
const BROWSER_SAFE = '^lib/(terminals/common/|http/sandbox\\.ts$)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form a tree of layers, not a loop.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
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
      from: { path: '^lib/base/' },
      to: { path: '^lib/', pathNot: '^lib/base/' },
    },
    {
      name: 'labs-db-auth-below-environments',
      severity: 'error',
      comment: 'Lab content, storage and identity know nothing of drivers, checks or sessions.',
      from: { path: inLayerOf('labs') },
      to: { path: aboveLayerOf('labs') },
    },
    {
      name: 'drivers-below-checks',
      severity: 'error',
      comment: 'Drivers implement the seam; what runs on top of them is not their business.',
      from: { path: inLayerOf('environments') },
      to: { path: aboveLayerOf('environments') },
    },
    {
      name: 'drivers-behind-the-seam',
      severity: 'error',
      comment:
        'Above lib/environments, code talks to EnvironmentDriver (driver.ts), never to one backend: a new backend is one new folder. ' +
        'The runtime builds the drivers (environments/index.ts) and is the one exception. images/ (how backends get their images) counts as a backend too.',
      from: { path: '^lib/', pathNot: '^lib/(environments|runtime)/' },
      to: { path: '^lib/environments/(docker|kind|images)/' },
    },
    {
      name: 'backend-libraries-in-drivers',
      severity: 'error',
      comment:
        "A backend's node library (dockerode, @kubernetes/client-node, their types too) is imported only by drivers under lib/environments/, " +
        'and not by the seam (driver.ts) itself: what works above the seam then works for every driver (the Traffic tab goes through EnvironmentDriver.capture).',
      from: { pathNot: '^lib/environments/(?!driver\\.ts$)' },
      to: { path: 'node_modules/(@types/)?(dockerode|@kubernetes/client-node)/' },
    },
    {
      name: 'docker-knows-no-kind',
      severity: 'error',
      comment: 'Kind runs its nodes as Docker containers (kind/ uses docker/); Docker knows nothing of Kind.',
      from: { path: '^lib/environments/docker/' },
      to: { path: '^lib/environments/kind/' },
    },
    {
      name: 'checks-below-sessions',
      severity: 'error',
      from: { path: inLayerOf('checks') },
      to: { path: aboveLayerOf('checks') },
    },
    {
      name: 'sessions-below-transports',
      severity: 'error',
      comment: 'Sessions are driven by the API, terminals and authoring tools, never the other way round.',
      from: { path: inLayerOf('sessions') },
      to: { path: aboveLayerOf('sessions') },
    },
    {
      name: 'webhooks-below-transports',
      severity: 'error',
      comment:
        'Webhooks, results and analytics read what sessions recorded, observability what sessions report and services hold; ' +
        'the runtime runs them, transports serve them.',
      from: { path: inLayerOf('webhooks') },
      to: { path: aboveLayerOf('webhooks') },
    },
    {
      name: 'runtime-composes-alone',
      severity: 'error',
      comment: 'Only the entry points (and route helpers in lib/http) reach the composed runtime.',
      from: { path: '^lib/', pathNot: '^lib/(http|runtime)/' },
      to: { path: '^lib/runtime/' },
    },
    {
      name: 'browser-imports-browser-safe-modules',
      severity: 'error',
      comment: 'Components run in the browser: from lib/ they take only modules written for it.',
      from: { path: '^components/' },
      to: { path: '^lib/', pathNot: BROWSER_SAFE, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'browser-safe-modules-stay-browser-safe',
      severity: 'error',
      from: { path: `^components/|${BROWSER_SAFE}` },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'browser-safe-modules-import-browser-safe-modules',
      severity: 'error',
      from: { path: BROWSER_SAFE },
      to: { path: '^lib/', pathNot: BROWSER_SAFE, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'browser-safe-modules-no-node-libraries',
      severity: 'error',
      from: { path: `^components/|${BROWSER_SAFE}` },
      to: { path: `node_modules/${NODE_ONLY.slice(1)}` },
    },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^lib/db/generated' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
