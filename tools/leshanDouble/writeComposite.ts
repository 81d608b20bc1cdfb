/**
 * PUT /api/clients/{ep}/composite: `mapper.readValue(content, HashMap<LwM2mPath, LwM2mNode>)` is *not* wrapped like
 * the single write, so a Jackson error (bad JSON, bad key, "Missing id"…) is an IOException: it escapes the servlet in
 * M15 (Jetty's 500 page) and becomes a 500 "Unexpected error handling PUT - …" text in master.
 * Runtime errors from the node deserializer still give 500 "Unexpected exception: …".
 */
import { jettyError, lmText, type HttpAnswer } from './http.js';
import { JavaException, invalidRequest, parseLwPath, pathToString, type LwPath } from './java.js';
import { deserializeNode, type ParsedNode } from './nodes.js';
import type { ServletRequest } from './servlet.js';

const MAP_TYPE = 'java.util.HashMap<org.eclipse.leshan.core.node.LwM2mPath,org.eclipse.leshan.core.node.LwM2mNode>';

export async function writeComposite(
  mode: 'L15' | 'LM',
  r: ServletRequest,
  send: (paths: string[]) => Promise<HttpAnswer>,
): Promise<HttpAnswer> {
  const io = (cls: string, msg: string): HttpAnswer =>
    mode === 'LM' ? lmText(500, `Unexpected error handling PUT - ${r.uri} : ${cls} - ${msg} `) : jettyError(500, `${cls}: ${msg}`, r.uri);
  if (r.body.trim() === '') {
    return io('com.fasterxml.jackson.databind.exc.MismatchedInputException', 'No content to map due to end-of-input');
  }
  let value: unknown;
  try {
    value = JSON.parse(r.body);
  } catch (e) {
    return io('com.fasterxml.jackson.core.JsonParseException', (e as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return io(
      'com.fasterxml.jackson.databind.exc.MismatchedInputException',
      `Cannot deserialize value of type \`${MAP_TYPE}\` from ${Array.isArray(value) ? 'Array' : 'scalar'} value`,
    );
  }
  const nodes: Array<[LwPath, ParsedNode]> = [];
  for (const [key, v] of Object.entries(value)) {
    let path: LwPath;
    try {
      path = parseLwPath(key);
    } catch (e) {
      return io(
        'com.fasterxml.jackson.databind.exc.InvalidFormatException',
        `Cannot deserialize Map key of type \`org.eclipse.leshan.core.node.LwM2mPath\` from String "${key}": ` +
          `not a valid representation: ${(e as Error).message}`,
      );
    }
    try {
      nodes.push([path, deserializeNode(v)]);
    } catch (e) {
      if (e instanceof JavaException && e.jkind === 'JsonProcessing') {
        return io('com.fasterxml.jackson.core.JsonParseException', e.message);
      }
      throw e;
    }
  }
  // WriteCompositeRequest: only resources and resource instances, each with the node kind of its path.
  if (nodes.length === 0) throw invalidRequest('nodes are mandatory and must not be empty');
  for (const [path, node] of nodes) {
    const ok =
      (path.length === 3 && (node.cls === 'LwM2mSingleResource' || node.cls === 'LwM2mMultipleResource')) ||
      (path.length === 4 && node.cls === 'LwM2mResourceInstance');
    if (!ok) {
      throw invalidRequest(`Invalid path ${pathToString(path)} for node ${node.cls}: only resource or resource instance can be written`);
    }
  }
  return send(nodes.map(([p]) => pathToString(p)));
}
