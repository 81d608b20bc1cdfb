/*
 * How deeply a JSON text nests, checked on the text before it is parsed. Pure: no I/O, no recursion.
 *
 * V8's JSON.parse takes any depth, but what the daemon then does with a value (deepFreeze in the store,
 * JSON.stringify when it writes the store or answers the API, the node flattening for InfluxDB) recurses,
 * so a hostile Leshan nesting `content` 100 000 levels deep would overflow the stack there. No Leshan
 * answer or event nests anywhere near MAX_LESHAN_JSON_DEPTH: a composite read of an object with
 * multi-instance OBJLNK resources is about 9 levels.
 */

/** Deepest nesting of arrays and objects accepted in anything Leshan sends. */
export const MAX_LESHAN_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when `text`, read as JSON, opens more than `max` arrays/objects inside one another (brackets
 * inside strings do not count). One pass over the text; it need not be valid JSON.
 */
export function jsonNestingExceeds(text: string, max: number = MAX_LESHAN_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
