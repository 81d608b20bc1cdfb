// Lint rules of the project: typescript-eslint's recommended rules, no import cycles, and the floors
// of src/ as import boundaries (a folder may import only from the floors below it).
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Each src folder and the folders it must not import from. */
const FLOORS = [
  // the bottom: pure domain and plumbing, importing nothing else of the daemon
  { target: 'lwm2m', forbidden: ['*'], except: ['lwm2m'] },
  { target: 'log', forbidden: ['*'], except: ['log'] },
  { target: 'config', forbidden: ['*'], except: ['config', 'log', 'lwm2m'] },
  { target: 'metrics', forbidden: ['*'], except: ['metrics'] },
  { target: 'systemd', forbidden: ['*'], except: ['systemd', 'log'] },
  { target: 'dataDir', forbidden: ['*'], except: ['dataDir', 'log'] },
  // HTTP plumbing knows no feature
  { target: 'http', forbidden: ['*'], except: ['http', 'log', 'lwm2m', 'metrics'] },
  // adapters at the edges
  { target: 'influx', forbidden: ['*'], except: ['influx', 'config', 'log', 'lwm2m', 'metrics', 'http', 'dataDir'] },
  { target: 'leshan', forbidden: ['*'], except: ['leshan', 'log', 'lwm2m', 'metrics'] },
  // features: endpoints never imports operations; ingest never imports influx
  { target: 'endpoints', forbidden: ['*'], except: ['endpoints', 'lwm2m', 'log', 'metrics', 'http'] },
  { target: 'ingest', forbidden: ['*'], except: ['ingest', 'lwm2m', 'log', 'metrics', 'http', 'leshan'] },
  {
    target: 'operations',
    forbidden: ['*'],
    except: ['operations', 'lwm2m', 'log', 'metrics', 'http', 'leshan', 'endpoints', 'ingest', 'dataDir'],
  },
  // firmware updates are workflows over operations
  { target: 'firmware', forbidden: ['*'], except: ['firmware', 'lwm2m', 'log', 'metrics', 'http', 'operations', 'endpoints', 'ingest'] },
  // only the controller assembles
  { target: 'assembly', forbidden: ['controller.ts', 'main.ts'] },
];

const ALL = [
  'lwm2m',
  'log',
  'config',
  'metrics',
  'systemd',
  'dataDir',
  'http',
  'influx',
  'leshan',
  'endpoints',
  'ingest',
  'operations',
  'firmware',
  'assembly',
  'controller.ts',
  'main.ts',
];

const zones = FLOORS.flatMap(({ target, forbidden, except = [] }) =>
  (forbidden[0] === '*' ? ALL.filter((f) => !except.includes(f)) : forbidden).map((from) => ({
    target: `./src/${target}`,
    from: `./src/${from}`,
    message: `src/${target} sits below src/${from} (eslint.config.js FLOORS)`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...zones,
            // the daemon never depends on its tests or tools
            {
              target: './src',
              from: ['./test', './tools', './bench', './demo'],
              message: 'src must not import tests, tools, benchmarks or the demo',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // tests, tools, benchmarks and the demo talk to loosely typed JSON answers
    files: ['test/**', 'tools/**', 'bench/**', 'demo/**'],
    // and hostile-input tests spell out control characters on purpose
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off', 'no-control-regex': 'off' },
  },
);
