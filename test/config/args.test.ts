import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, USAGE } from '../../src/config/args.js';

describe('parseCommandLine', () => {
  it('takes --config FILE and --config=FILE', () => {
    assert.deepEqual(parseCommandLine(['--config', 'a.json']), { configFile: 'a.json', problems: [] });
    assert.deepEqual(parseCommandLine(['--config=b.json']), { configFile: 'b.json', problems: [] });
    assert.deepEqual(parseCommandLine([]), { problems: [] });
  });

  it('takes --salvage-store', () => {
    assert.deepEqual(parseCommandLine(['--salvage-store', '--config', 'a.json']), {
      configFile: 'a.json',
      salvageStore: true,
      problems: [],
    });
  });

  it('takes --help / -h, --version / -v and --print-config as what to do instead of running, --help first', () => {
    assert.equal(parseCommandLine(['--help']).action, 'help');
    assert.equal(parseCommandLine(['-h']).action, 'help');
    assert.equal(parseCommandLine(['--version']).action, 'version');
    assert.equal(parseCommandLine(['-v']).action, 'version');
    assert.equal(parseCommandLine(['--print-config', '--config', 'a.json']).action, 'print-config');
    assert.equal(parseCommandLine(['--print-config', '--version', '-h']).action, 'help');
    assert.equal(parseCommandLine(['--config', 'a.json']).action, undefined);
  });

  it('reports every mistake at once, naming the argument, and never throws', () => {
    const { problems } = parseCommandLine(['--salvage', 'extra', '--help=yes', '--config']);
    assert.deepEqual(
      problems.map((p) => p.replace(/ \(usage: .*\)$/, '')),
      ['unknown argument "--salvage"', 'unexpected argument "extra"', '--help takes no value', '--config needs a file name'],
    );
    assert.match(problems[0]!, /\(usage: lwm2m-backend /);
    assert.deepEqual(parseCommandLine(['--config', '--salvage-store']).problems, ['--config needs a file name']);
    assert.deepEqual(parseCommandLine(['--config=']).problems, ['--config needs a file name']);
  });

  it('has a usage text that names every option it takes', () => {
    for (const option of ['--config', '--salvage-store', '--print-config', '--help', '--version'])
      assert.ok(USAGE.includes(option), option);
  });
});
