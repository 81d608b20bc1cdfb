import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecret, withoutCredentials } from '../../src/log/redact.js';

describe('withoutCredentials', () => {
  it('hides a user name and password in a URL shown by /health, and leaves other URLs alone', () => {
    assert.equal(withoutCredentials('http://admin:hunter2@10.0.0.5:8086/'), 'http://***@10.0.0.5:8086/');
    assert.equal(withoutCredentials('http://127.0.0.1:8086'), 'http://127.0.0.1:8086');
    assert.ok(!withoutCredentials('https://u:p%40ss@h/').includes('p%40ss'));
    assert.equal(withoutCredentials('not a url'), '(unparsable URL)');
  });
});

describe('maskSecret', () => {
  it('shows that a secret is set without showing it, and shows an unset one as empty', () => {
    assert.equal(maskSecret('hunter2'), '***');
    assert.equal(maskSecret(''), '');
  });
});
