import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrames, encodeFrames, validFrameAfter } from '../../src/dataDir/frames.js';

describe('frames (the journal and the spool)', () => {
  it('reads back every record, with a damaged or cut frame reported where it starts', () => {
    const jsons = ['{"seq":1}', '{"seq":2,"put":{"id":"1","value":"ü\\n✓"}}', '{}'];
    const buf = encodeFrames(jsons);
    assert.deepEqual(
      decodeFrames(buf).frames.map((f) => f.text),
      jsons,
    );
    const second = decodeFrames(buf).frames[1]!.at;
    assert.deepEqual(decodeFrames(buf.subarray(0, buf.length - 3)), {
      frames: decodeFrames(buf).frames.slice(0, 2),
      end: buf.length - 23,
      stop: 'short',
    });
    const flipped = Buffer.from(buf);
    flipped[second + 25]! ^= 1;
    const bad = decodeFrames(flipped);
    assert.equal(bad.frames.length, 1);
    assert.equal(bad.end, second);
    assert.equal(bad.stop, 'bad', 'a CRC mismatch');
  });
});

describe('validFrameAfter', () => {
  it('tells damage followed by whole frames from a torn tail', () => {
    const buf = encodeFrames(['{"seq":1}', '{"seq":2}', '{"seq":3}']);
    const second = decodeFrames(buf).frames[1]!.at;
    const damaged = Buffer.from(buf);
    damaged[second + 22]! ^= 1;
    assert.equal(validFrameAfter(damaged, second), true, 'the third frame is whole');
    assert.equal(validFrameAfter(buf.subarray(0, buf.length - 2), decodeFrames(buf).frames[2]!.at), false);
  });
});
