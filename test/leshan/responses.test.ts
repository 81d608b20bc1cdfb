// Section numbers (§) refer to docs/leshan-rest-api.md.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyResponse, statusCode, type AttemptResult } from '../../src/leshan/responses.js';

const JSON_TYPE = 'application/json';
const L15_SLEEPING = 'Invalid request: The destination client is sleeping, request cannot be sent.';
const L1_SLEEPING = 'Invalid request:The destination client is sleeping, request cannot be sent.';

/** Jetty 11's error page, as the M15 servlet's resp.sendError(400, "Invalid path") writes it. */
function jettyPage(status: number, message: string): string {
  return (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n' +
    `<title>Error ${status} ${message}</title>\n</head>\n<body><h2>HTTP ERROR ${status} ${message}</h2>\n</body>\n</html>\n`
  );
}

function notDelivered(reason: string, httpStatus: number, message: string): AttemptResult {
  return { kind: 'notDelivered', reason, httpStatus, message } as AttemptResult;
}

describe('classifyResponse: device responses (200, §4)', () => {
  it('success:true is confirmed, with code and content (2.x)', () => {
    const content = { id: 0, kind: 'singleResource', type: 'STRING', value: 'Zephyr' };
    const body = JSON.stringify({ status: 'CONTENT(205)', valid: true, success: true, failure: false, content });
    assert.deepEqual(classifyResponse(200, JSON_TYPE, body), {
      kind: 'confirmed',
      result: { status: 'CONTENT(205)', code: 205, content },
    });
    assert.deepEqual(classifyResponse(200, JSON_TYPE, '{"status":"CHANGED(204)","valid":true,"success":true,"failure":false}'), {
      kind: 'confirmed',
      result: { status: 'CHANGED(204)', code: 204 },
    });
  });

  it('success:false is a device error with the LwM2M code and the diagnostic payload', () => {
    const body = '{"status":"NOT_FOUND(404)","valid":true,"success":false,"failure":true,"errormessage":"no such"}';
    assert.deepEqual(classifyResponse(200, JSON_TYPE, body), {
      kind: 'deviceError',
      code: 404,
      result: { status: 'NOT_FOUND(404)', code: 404, errormessage: 'no such' },
    });
    assert.deepEqual(classifyResponse(200, JSON_TYPE, '{"status":"UNKNOWN(499)","valid":false,"success":false,"failure":true}'), {
      kind: 'deviceError',
      code: 499,
      result: { status: 'UNKNOWN(499)', code: 499 },
    });
    const server = classifyResponse(200, JSON_TYPE, '{"status":"INTERNAL_SERVER_ERROR(500)","valid":true,"success":false,"failure":true}');
    assert.deepEqual(server, { kind: 'deviceError', code: 500, result: { status: 'INTERNAL_SERVER_ERROR(500)', code: 500 } });
  });

  it('Leshan 1.x bare status names map to their codes', () => {
    const names: Array<[string, number]> = [
      ['CREATED', 201],
      ['DELETED', 202],
      ['CHANGED', 204],
      ['CONTENT', 205],
      ['BAD_REQUEST', 400],
      ['UNAUTHORIZED', 401],
      ['FORBIDDEN', 403],
      ['NOT_FOUND', 404],
      ['METHOD_NOT_ALLOWED', 405],
      ['NOT_ACCEPTABLE', 406],
      ['REQUEST_ENTITY_INCOMPLETE', 408],
      ['PRECONDITION_FAILED', 412],
      ['REQUEST_ENTITY_TOO_LARGE', 413],
      ['UNSUPPORTED_CONTENT_FORMAT', 415],
      ['INTERNAL_SERVER_ERROR', 500],
    ];
    for (const [name, code] of names) {
      assert.equal(statusCode(name), code, name);
      assert.equal(statusCode(`${name}(${code})`), code, `${name}(${code})`);
    }
    const ok = classifyResponse(
      200,
      JSON_TYPE,
      '{"status":"CONTENT","valid":true,"success":true,"failure":false,"content":{"id":1,"value":5}}',
    );
    assert.deepEqual(ok, { kind: 'confirmed', result: { status: 'CONTENT', code: 205, content: { id: 1, value: 5 } } });
    const nf = classifyResponse(200, JSON_TYPE, '{"status":"METHOD_NOT_ALLOWED","valid":true,"success":false,"failure":true}');
    assert.deepEqual(nf, { kind: 'deviceError', code: 405, result: { status: 'METHOD_NOT_ALLOWED', code: 405 } });
    assert.equal(statusCode('WHATEVER'), undefined);
    assert.equal(statusCode('changed(204)'), undefined);
    assert.equal(statusCode('CHANGED (204)'), undefined);
  });

  it('a null content is dropped; the content type is not required', () => {
    assert.deepEqual(classifyResponse(200, undefined, '{"status":"CONTENT(205)","success":true,"content":null}'), {
      kind: 'confirmed',
      result: { status: 'CONTENT(205)', code: 205 },
    });
  });

  it('a delayed request (Leshan master, sleeping client) carries its requestId', () => {
    const body = '{"ep":"q1","path":"/3/0/1","requestId":"6f1c2d4e-0000-4000-8000-000000000001","delayed":true}';
    assert.deepEqual(classifyResponse(200, JSON_TYPE, body), { kind: 'delayed', requestId: '6f1c2d4e-0000-4000-8000-000000000001' });
    assert.deepEqual(classifyResponse(200, JSON_TYPE, '{"ep":"q1","requestId":"r2","delayed":true}'), { kind: 'delayed', requestId: 'r2' });
  });

  it('a 200 that is not a response JSON is "other"', () => {
    const cases: Array<[string, string]> = [
      ['', 'Leshan: unexpected answer (200, not JSON: empty body)'],
      ['<html>ok</html>', 'Leshan: unexpected answer (200, not JSON: <html>ok</html>)'],
      ['[]', 'Leshan: unexpected answer (200, not a response object: [])'],
      ['{"delayed":true}', 'Leshan: unexpected answer (200, delayed without a requestId: {"delayed":true})'],
      ['{"status":"CHANGED(204)"}', 'Leshan: unexpected answer (200, no status and success: {"status":"CHANGED(204)"})'],
      ['{"status":204,"success":true}', 'Leshan: unexpected answer (200, no status and success: {"status":204,"success":true})'],
      ['{"status":"WEIRD","success":false}', 'Leshan: unexpected answer (200, unknown status "WEIRD": {"status":"WEIRD","success":false})'],
    ];
    for (const [body, message] of cases)
      assert.deepEqual(classifyResponse(200, JSON_TYPE, body), notDelivered('other', 200, message), body);
  });
});

describe('classifyResponse: Leshan refusals (§1.3, §5.2)', () => {
  it('504 Request timeout, with the timeout in the message when known', () => {
    assert.deepEqual(
      classifyResponse(504, undefined, 'Request timeout', 5),
      notDelivered('timeout', 504, 'Leshan: device did not answer within 5 s (504 Request timeout)'),
    );
    assert.deepEqual(
      classifyResponse(504, undefined, 'Request timeout'),
      notDelivered('timeout', 504, 'Leshan: device did not answer in time (504 Request timeout)'),
    );
  });

  it('a 504 from something else (a proxy) is "other"', () => {
    assert.deepEqual(
      classifyResponse(504, 'text/html', '<html><head><title>504 Gateway Time-out</title></head></html>'),
      notDelivered('other', 504, 'Leshan: unexpected answer (504 Gateway Time-out)'),
    );
  });

  it('400 sleeping, both in M15 and 1.x spelling', () => {
    const expected = notDelivered('sleeping', 400, 'Leshan: device is sleeping, request not sent (400)');
    assert.deepEqual(classifyResponse(400, undefined, L15_SLEEPING), expected);
    assert.deepEqual(classifyResponse(400, undefined, L1_SLEEPING), expected);
  });

  it('400 not registered, master and M15 casings', () => {
    const expected = notDelivered('notRegistered', 400, 'Leshan: endpoint is not registered (400)');
    assert.deepEqual(classifyResponse(400, 'text/plain; charset=UTF-8', "No registered client with id 'dev 1'"), expected);
    assert.deepEqual(classifyResponse(400, undefined, "no registered client with id 'dev1'"), expected);
  });

  it('400 invalid requests: handleException texts, master "Invalid path", M15 Jetty page, Jetty URI checks', () => {
    const cases: Array<[string | undefined, string, string]> = [
      [
        undefined,
        'Invalid request: Invalid path /3/0 : Only resource can be executed.',
        'Invalid request: Invalid path /3/0 : Only resource can be executed.',
      ],
      [undefined, 'Invalid request:The destination path is bad', 'Invalid request:The destination path is bad'],
      [
        undefined,
        'Invalid request: unable to parse json to tlv:Unexpected end-of-input',
        'Invalid request: unable to parse json to tlv:Unexpected end-of-input',
      ],
      ['text/plain; charset=UTF-8', 'Invalid path', 'Invalid path'],
      ['text/plain; charset=UTF-8', 'Invalid attributes: timeout attribute is unknown', 'Invalid attributes: timeout attribute is unknown'],
      ['text/html;charset=iso-8859-1', jettyPage(400, 'Invalid path'), 'Invalid path'],
      ['text/html;charset=iso-8859-1', jettyPage(400, 'Ambiguous URI path separator'), 'Ambiguous URI path separator'],
    ];
    for (const [type, body, text] of cases) {
      assert.deepEqual(
        classifyResponse(400, type, body),
        notDelivered('invalidRequest', 400, `Leshan refused the request (400 ${text})`),
        body,
      );
    }
  });

  it('400 with any other text is "other"', () => {
    assert.deepEqual(
      classifyResponse(400, undefined, 'Bad things'),
      notDelivered('other', 400, 'Leshan: unexpected answer (400 Bad things)'),
    );
  });

  it("500 is a server error that keeps Leshan's text", () => {
    const texts = [
      'Request rejected: Request coap://127.0.0.1:5683/3/0/1 rejected',
      'Request cancelled: Request coap://127.0.0.1:5683/3/0/1 cancelled',
      'Unexpected exception: Unexpected JSON type of \'value\' field ["true"]',
      'Invalid Response: bad payload',
    ];
    for (const t of texts) assert.deepEqual(classifyResponse(500, undefined, t), notDelivered('serverError', 500, `Leshan: ${t} (500)`));
    assert.deepEqual(
      classifyResponse(500, 'text/html;charset=iso-8859-1', jettyPage(500, 'java.lang.NullPointerException &amp; more')),
      notDelivered('serverError', 500, 'Leshan: java.lang.NullPointerException & more (500)'),
    );
    assert.deepEqual(classifyResponse(500, undefined, ''), notDelivered('serverError', 500, 'Leshan: internal error (500)'));
  });

  it('anything else is "other", on one line and clipped', () => {
    assert.deepEqual(
      classifyResponse(404, undefined, "no observation for path /3/0/1 for  client 'dev1'"),
      notDelivered('invalidRequest', 404, "Leshan holds no such observation (404 no observation for path /3/0/1 for client 'dev1')"),
      'an active cancel of an observation Leshan does not hold cannot succeed later either',
    );
    assert.deepEqual(
      classifyResponse(404, 'text/html', jettyPage(404, 'Not Found')),
      notDelivered('other', 404, 'Leshan: unexpected answer (404 Not Found)'),
    );
    assert.deepEqual(classifyResponse(401, undefined, ''), notDelivered('other', 401, 'Leshan: unexpected answer (401)'));
    const long = classifyResponse(502, undefined, `line1\n\n${'x'.repeat(500)}`);
    assert.equal(long.kind, 'notDelivered');
    assert.equal((long as { message: string }).message, `Leshan: unexpected answer (502 line1 ${'x'.repeat(194)}…)`);
  });
});

describe('classifyResponse: content nested too deep (a hostile Leshan)', () => {
  const answer = (content: string): string => `{"status":"CONTENT(205)","valid":true,"success":true,"failure":false,"content":${content}}`;
  const nested = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  it('past 64 levels in all: "other" (counted, never kept), without recursion even at 1 000 000 levels', () => {
    const refused = notDelivered('other', 200, 'Leshan: unexpected answer (200, JSON nested deeper than 64 levels; not kept)');
    assert.deepEqual(classifyResponse(200, JSON_TYPE, answer(nested(64))), refused); // 65 with the response object
    assert.deepEqual(classifyResponse(200, JSON_TYPE, answer('['.repeat(1_000_000) + ']'.repeat(1_000_000))), refused);
    // an unclosed one is refused the same way (the depth is read off the text before parsing)
    assert.deepEqual(classifyResponse(200, JSON_TYPE, answer('['.repeat(100))), refused);
  });

  it('63 levels of content is kept; brackets inside strings do not count', () => {
    const kept = classifyResponse(200, JSON_TYPE, answer(nested(63)));
    assert.equal(kept.kind, 'confirmed');
    const text = classifyResponse(
      200,
      JSON_TYPE,
      answer(JSON.stringify({ id: 0, kind: 'singleResource', type: 'STRING', value: '[{\\"'.repeat(100) })),
    );
    assert.equal(text.kind, 'confirmed');
  });
});

describe('classifyCancelObserve', () => {
  it('takes the passive cancel (an empty 200) as done, and classifies anything else as any answer', async () => {
    const { classifyCancelObserve, classifyResponse } = await import('../../src/leshan/responses.js');
    assert.deepEqual(classifyCancelObserve(200, undefined, ''), {
      kind: 'confirmed',
      result: { status: 'passive cancel: Leshan forgot the observation' },
    });
    assert.deepEqual(classifyCancelObserve(200, 'text/plain', ' \r\n'), classifyCancelObserve(200, undefined, ''));
    assert.equal(classifyResponse(200, undefined, '').kind, 'notDelivered', 'an empty 200 to any other request is still unexpected');
    const active = '{"status":"CONTENT(205)","valid":true,"success":true,"failure":false}';
    assert.deepEqual(classifyCancelObserve(200, 'application/json', active), classifyResponse(200, 'application/json', active));
    assert.equal(classifyCancelObserve(404, 'text/plain', "no observation for path /3/0/1 for  client 'x'").kind, 'notDelivered');
  });
});
