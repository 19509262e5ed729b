/**
 * The layers, enforced by `npm run check`:
 *   core ← db ← lib ← services ← {api, workers} ← entry points (start.ts, cli, bench, test)
 * An arrow may only point down (left). Type-only imports count: a layer that needs a type
 * from above is in the wrong place.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports-down-only`,
  comment: `${name}/ may import only ${allowed.join(', ') || 'itself'} (and packages)`,
  severity: 'error',
  from: { path: `^${name}/` },
  to: {
    path: '^(core|db|lib|services|api|workers|cli|bench|test)/|^[^/]+\\.ts$',
    pathNot: `^(${[name, ...allowed].join('|')})/`,
  },
});

module.exports = {
  forbidden: [
    layer('core', []),
    layer('db', ['core']),
    layer('lib', ['core', 'db']),
    layer('services', ['core', 'db', 'lib']),
    layer('api', ['core', 'db', 'lib', 'services']),
    layer('workers', ['core', 'db', 'lib', 'services']),
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
