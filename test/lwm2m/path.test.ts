import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPath, isValidId, MAX_ID, parsePath, PathError, pathLevel, type LwM2mPath } from '../../src/lwm2m/path.js';

function rejects(text: string, message: RegExp): void {
  assert.throws(
    () => parsePath(text),
    (e: unknown) => e instanceof PathError && message.test(e.message),
    text,
  );
}

describe('parsePath', () => {
  it('reads 1 to 4 segments, with or without the leading slash', () => {
    assert.deepEqual(parsePath('/5'), { objectId: 5 });
    assert.deepEqual(parsePath('5/0'), { objectId: 5, instanceId: 0 });
    assert.deepEqual(parsePath('/5/0/1'), { objectId: 5, instanceId: 0, resourceId: 1 });
    assert.deepEqual(parsePath('5/0/1'), { objectId: 5, instanceId: 0, resourceId: 1 });
    assert.deepEqual(parsePath('/16/0/0/1'), { objectId: 16, instanceId: 0, resourceId: 0, resourceInstanceId: 1 });
  });

  it('tolerates one trailing slash', () => {
    assert.deepEqual(parsePath('/3/0/'), { objectId: 3, instanceId: 0 });
    assert.deepEqual(parsePath('3/'), { objectId: 3 });
    assert.deepEqual(parsePath('/1/2/3/4/'), { objectId: 1, instanceId: 2, resourceId: 3, resourceInstanceId: 4 });
  });

  it('accepts the id bounds 0 and 65535 in every segment', () => {
    assert.deepEqual(parsePath('/0/0/0/0'), { objectId: 0, instanceId: 0, resourceId: 0, resourceInstanceId: 0 });
    assert.deepEqual(parsePath('/65535/65535/65535/65535'), {
      objectId: 65535,
      instanceId: 65535,
      resourceId: 65535,
      resourceInstanceId: 65535,
    });
  });

  it('rejects ids above 65535, naming the id', () => {
    rejects('/70000', /id 70000 out of range 0-65535/);
    rejects('/3/65536', /segment 2: id 65536 out of range 0-65535/);
    rejects('/3/0/99999999999999999999999', /id 99999999999999999999999 out of range/);
  });

  it('rejects non-numeric segments, signs and blanks, naming the segment', () => {
    rejects('/x', /^segment 1 "x" is not a number$/);
    rejects('/3/0/x', /^segment 3 "x" is not a number$/);
    rejects('/3/+0', /segment 2 "\+0" is not a number/);
    rejects('/3/-1', /segment 2 "-1" is not a number/);
    rejects('/3/0x1', /segment 2 "0x1" is not a number/);
    rejects('/3/1.5', /segment 2 "1.5" is not a number/);
    rejects(' /3', /segment 1 " " is not a number/);
    rejects('/3 ', /segment 1 "3 " is not a number/);
  });

  it('rejects empty paths, empty segments and more than 4 segments', () => {
    rejects('', /path is empty/);
    rejects('/', /path is empty/);
    rejects('//3', /segment 1 is empty/);
    rejects('/3//1', /segment 2 is empty/);
    rejects('/1/2/3/4/5', /more than 4 segments/);
    rejects('/1/2/3/4//', /more than 4 segments/);
  });

  it('rejects a non-string at run time', () => {
    assert.throws(() => parsePath(5 as unknown as string), PathError);
  });

  it('clips very long segments in messages', () => {
    assert.throws(
      () => parsePath(`/${'a'.repeat(10_000)}`),
      (e: unknown) => e instanceof PathError && e.message.length < 100,
    );
  });
});

describe('formatPath and pathLevel', () => {
  it('formats each level with a leading slash', () => {
    assert.equal(formatPath({ objectId: 3 }), '/3');
    assert.equal(formatPath({ objectId: 3, instanceId: 0 }), '/3/0');
    assert.equal(formatPath({ objectId: 5, instanceId: 0, resourceId: 1 }), '/5/0/1');
    assert.equal(formatPath({ objectId: 16, instanceId: 0, resourceId: 0, resourceInstanceId: 1 }), '/16/0/0/1');
  });

  it('names the level of the deepest id', () => {
    assert.equal(pathLevel(parsePath('/3')), 'object');
    assert.equal(pathLevel(parsePath('/3/0')), 'instance');
    assert.equal(pathLevel(parsePath('/3/0/1')), 'resource');
    assert.equal(pathLevel(parsePath('/3/0/1/2')), 'resourceInstance');
  });

  it('round-trips every valid path', () => {
    const id = fc.integer({ min: 0, max: MAX_ID });
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 4 }), (ids) => {
        const text = `/${ids.join('/')}`;
        const p: LwM2mPath = parsePath(text);
        assert.equal(formatPath(p), text);
        assert.equal(pathLevel(p), (['object', 'instance', 'resource', 'resourceInstance'] as const)[ids.length - 1]);
      }),
    );
  });
});

describe('isValidId and MAX_ID', () => {
  it('is 65535 and bounds ids', () => {
    assert.equal(MAX_ID, 65535);
    assert.equal(isValidId(0), true);
    assert.equal(isValidId(65535), true);
    assert.equal(isValidId(65536), false);
    assert.equal(isValidId(-1), false);
    assert.equal(isValidId(1.5), false);
    assert.equal(isValidId('1'), false);
  });
});
