import { parseArgs } from 'node:util';

/** What the command line asks for. */
export interface CommandLine {
  /** `--config FILE`: merged over config/default.json. */
  configFile?: string;
  /** `--salvage-store`: start on a corrupt operation store, keeping every complete operation in it. */
  salvageStore?: true;
  /** `--help`, `--version`, `--print-config`: print and exit instead of running. */
  action?: 'help' | 'version' | 'print-config';
  problems: string[];
}

export const USAGE = `usage: lwm2m-backend [--config FILE] [--salvage-store] [--print-config] [--help] [--version]

  --config FILE     a JSON file merged over config/default.json (LWM2M_* environment variables override both)
  --salvage-store   start on a corrupt operation store, keeping every complete operation (the file is copied aside first)
  --print-config    print the effective configuration (secrets masked) and exit; exit 78 when it is invalid
  --version, -v     print the version and exit
  --help, -h        print this and exit
`;

const SHORT_USAGE = USAGE.slice(0, USAGE.indexOf('\n'));

const OPTIONS = {
  config: { type: 'string' },
  'salvage-store': { type: 'boolean' },
  'print-config': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/**
 * Reads the command line with node:util's parseArgs (its tokens, so that every mistake is reported at once,
 * as the configuration's problems are); a mistake is a problem to report, never a throw.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const problems: string[] = [];
  const line: Omit<CommandLine, 'problems'> = {};
  const actions: NonNullable<CommandLine['action']>[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      problems.push(`unexpected argument "${token.value}" (${SHORT_USAGE})`);
      continue;
    }
    if (token.kind !== 'option') continue; // `--` ends the options: nothing follows it here
    const name = token.name as keyof typeof OPTIONS | string;
    if (!(name in OPTIONS)) {
      problems.push(`unknown argument "${token.rawName}" (${SHORT_USAGE})`);
    } else if (name === 'config') {
      if (token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('-')))
        problems.push('--config needs a file name');
      else line.configFile = token.value;
    } else if (token.value !== undefined) {
      problems.push(`${token.rawName} takes no value`);
    } else if (name === 'salvage-store') {
      line.salvageStore = true;
    } else {
      actions.push(name === 'help' ? 'help' : name === 'version' ? 'version' : 'print-config');
    }
  }
  // --help wins over --version, which wins over --print-config
  const action = (['help', 'version', 'print-config'] as const).find((a) => actions.includes(a));
  return { ...line, ...(action && { action }), problems };
}
