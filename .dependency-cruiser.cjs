/**
 * The layers, enforced by `npm run check`:
 *   core ← db ← lib ← services ← {api, workers} ← entry points (start.ts, bin, cli; bench, test)
 * An arrow may only point down (left). Type-only imports count: a layer that needs a type
 * from above is in the wrong place.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports-down-only`,
  comment: `${name}/ may import only ${allowed.join(', ') || 'itself'} (and packages)`,
  severity: 'error',
  from: { path: `^${name}/` },
  to: {
    path: '^(core|db|lib|services|api|workers|bin|cli|bench|test)/|^[^/]+\\.ts$',
    pathNot: `^(${[name, ...allowed].join('|')})/`,
  },
});

/**
 * The capability folders of services/, each allowed to import only those before it, so
 * folders cannot import each other in a circle. A new folder takes its place in the list.
 */
const serviceFolders = [
  'shared',
  'audit',
  'mail',
  'accounts',
  'webhooks',
  'delegations',
  'offers',
  'campaigns',
  'operations',
  'dashboard',
  'maintenance',
];
const serviceFolderRules = serviceFolders.map((folder, i) => ({
  name: `services-${folder}-imports-earlier-folders-only`,
  comment: `services/${folder}/ may import only services/{${serviceFolders.slice(0, i).join(',')}}/ of the other folders`,
  severity: 'error',
  from: { path: `^services/${folder}/` },
  to: { path: '^services/', pathNot: `^services/(${serviceFolders.slice(0, i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...serviceFolderRules,
    layer('core', []),
    layer('db', ['core']),
    layer('lib', ['core', 'db']),
    layer('services', ['core', 'db', 'lib']),
    layer('api', ['core', 'db', 'lib', 'services']),
    layer('workers', ['core', 'db', 'lib', 'services']),
    {
      name: 'nothing-imports-entry-points',
      comment: 'bin/, cli/ and start.ts are entry points: only tests, benchmarks and other entry points import them.',
      severity: 'error',
      from: { pathNot: '^(bin|cli|test|bench)/' },
      to: { path: '^(bin|cli)/|^start\\.ts$' },
    },
    {
      name: 'services-not-loose',
      comment: 'Every service lives in a capability folder.',
      severity: 'error',
      from: {},
      to: { path: '^services/[^/]+\\.tsx?$' },
    },
    {
      name: 'no-circular',
      comment: 'No import circles anywhere in the source tree, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
    },
  },
};
