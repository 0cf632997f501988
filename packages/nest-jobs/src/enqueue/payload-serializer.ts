import { InvalidPayloadError } from '../errors/invalid-payload.error.js';
import { describeError } from '../utils/describe-error.js';
import { unsafeCharacter } from '../utils/postgres-text.js';

/**
 * Deepest nesting a payload may have (objects and arrays inside each other). The walk below
 * and PostgreSQL's jsonb parser both recurse: far below either stack's limit, far above any
 * real payload.
 */
export const MAX_PAYLOAD_DEPTH = 1_000;

/**
 * Where a payload sits in the call, for error paths: a single enqueue (`payload`), item
 * `index` of `enqueueMany(handler, method, payloads)` (`payloads[3]`) or of
 * `enqueueMany(jobs)` (`jobs[3].payload`). Two primitives rather than an object: the bulk
 * path calls this per item and builds the text only when something fails.
 */
export type PayloadList = 'payloads' | 'jobs' | undefined;

/**
 * Serialises a payload to JSON, refusing anything JSON.stringify would silently change or
 * drop (undefined, functions, symbols, NaN, Map/Set, binary data...) or throws on (BigInt,
 * cycles), and any string PostgreSQL refuses (U+0000, lone surrogates, in keys and values),
 * so a handler receives exactly what was enqueued and the database never sees a bad value.
 *
 * One walk writes the text: every property, getter, Proxy trap and `toJSON` is read exactly
 * once, so what was checked is what is stored (a `toJSON` or getter that answers
 * differently when asked again cannot slip a NaN or a U+0000 past the check). The output is
 * JSON.stringify's: Dates become their ISO string, other `toJSON` results are written in
 * the value's place, boxed primitives (`new Number(1)`) as their primitive, -0 as 0. A
 * getter, `toJSON` or trap that throws is an `InvalidPayloadError` at its path.
 */
export function serializePayload(
  jobName: string,
  payload: unknown,
  maxBytes: number,
  list: PayloadList = undefined,
  index = -1,
): string {
  const path: Array<string | number> = [];
  let json: string;
  try {
    json = writeJson(payload, '', path, []);
  } catch (error) {
    if (error instanceof PayloadProblem)
      throw invalid(jobName, path, list, index, error.problem);
    // The walk leaves `path` at the value that threw (pops are skipped on a throw).
    throw invalid(
      jobName,
      path,
      list,
      index,
      `could not be read: ${describeError(error)}`,
    );
  }
  // A UTF-16 unit is at most 3 bytes of UTF-8: most payloads are checked without counting.
  if (json.length * 3 <= maxBytes) return json;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw invalid(
      jobName,
      [],
      list,
      index,
      `is ${bytes} bytes of JSON, over the limit of ${maxBytes} (option maxPayloadBytes)`,
    );
  }
  return json;
}

/**
 * A binary payload: a `Buffer` or other `Uint8Array` given as the whole payload is stored
 * as bytes (`payload_bytes`) and handed to the handler as a `Buffer`. Returns a copy (a
 * later change of the caller's array does not change the job), or null for any other
 * payload. Over `maxBytes` it is an InvalidPayloadError; a binary value inside a JSON
 * payload stays refused by serializePayload.
 */
export function binaryPayload(
  jobName: string,
  payload: unknown,
  maxBytes: number,
  list: PayloadList = undefined,
  index = -1,
): Buffer | null {
  // The typeof test first: JSON payloads, nearly all of them, pay nothing more.
  if (typeof payload !== 'object' || payload === null) return null;
  let bytes: Buffer;
  try {
    if (!(payload instanceof Uint8Array)) return null;
    bytes = Buffer.from(payload);
  } catch (error) {
    throw invalid(
      jobName,
      [],
      list,
      index,
      `could not be read: ${describeError(error)}`,
    );
  }
  if (bytes.length > maxBytes) {
    throw invalid(
      jobName,
      [],
      list,
      index,
      `is ${bytes.length} bytes of binary data, over the limit of ${maxBytes} (option maxPayloadBytes)`,
    );
  }
  return bytes;
}

/** What the walk found wrong at `path`; turned into an `InvalidPayloadError` by the caller. */
class PayloadProblem {
  constructor(readonly problem: string) {}
}

/**
 * The JSON text of `value`, found under `key` (the key JSON.stringify passes to `toJSON`).
 * `path` holds the keys and indexes down to `value`, and becomes a printable path
 * (`payload.items[2].at`) only when something fails; `ancestors` holds the objects above
 * `value` (a cycle check: payloads are shallow, so a stack beats a Set).
 */
function writeJson(
  value: unknown,
  key: string | number,
  path: Array<string | number>,
  ancestors: object[],
): string {
  switch (typeof value) {
    case 'string':
      return quote(value, 'contains');
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return writeNumber(value);
    case 'undefined':
      throw new PayloadProblem(
        'is undefined, which JSON cannot represent (use null, or omit the property)',
      );
    case 'bigint':
      throw BIGINT_PROBLEM;
    case 'function':
      throw new PayloadProblem('is a function, which JSON cannot represent');
    case 'symbol':
      throw new PayloadProblem('is a symbol, which JSON cannot represent');
  }
  if (value === null) return 'null';
  const object = value as object;
  const prototype = Object.getPrototypeOf(object) as object | null;
  // Plain objects and arrays (nearly every value) skip the checks for exotic kinds.
  if (
    prototype !== Object.prototype &&
    prototype !== Array.prototype &&
    prototype !== null
  ) {
    const primitive = exoticValue(object);
    if (primitive !== NOT_EXOTIC)
      return writeJson(primitive, key, path, ancestors);
  }
  if (ancestors.length >= MAX_PAYLOAD_DEPTH) {
    throw new PayloadProblem(
      `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels (MAX_PAYLOAD_DEPTH)`,
    );
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    if (toJSON === DATE_TO_JSON && object instanceof Date) {
      if (Number.isNaN(object.getTime()))
        throw new PayloadProblem('is an invalid Date');
      return `"${DATE_TO_ISO.call(object)}"`;
    }
    const replaced: unknown = toJSON.call(object, String(key));
    if (replaced === undefined)
      throw new PayloadProblem(
        'has a toJSON() that returned undefined, which JSON drops',
      );
    if (replaced !== object) {
      ancestors.push(object);
      const json = writeJson(replaced, key, path, ancestors);
      ancestors.pop();
      return json;
    }
  }
  if (ancestors.includes(object))
    throw new PayloadProblem('is a circular reference');
  ancestors.push(object);
  const json = Array.isArray(object)
    ? writeArray(object, path, ancestors)
    : writeObject(object, path, ancestors);
  ancestors.pop();
  return json;
}

function writeNumber(value: number): string {
  if (!Number.isFinite(value))
    throw new PayloadProblem(`is ${value}, which JSON cannot represent`);
  // String(-0) is "0", as in JSON.stringify.
  return String(value);
}

function writeArray(
  array: readonly unknown[],
  path: Array<string | number>,
  ancestors: object[],
): string {
  let json = '[';
  for (let i = 0; i < array.length; i += 1) {
    if (i > 0) json += ',';
    path.push(i);
    json += writeJson(array[i], i, path, ancestors);
    path.pop();
  }
  return json + ']';
}

function writeObject(
  object: object,
  path: Array<string | number>,
  ancestors: object[],
): string {
  if (Object.getOwnPropertySymbols(object).length > 0) {
    throw new PayloadProblem('has symbol keys, which JSON drops');
  }
  let json = '{';
  let first = true;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    path.push(key);
    const quotedKey = quote(key, 'is a key that contains');
    const member = writeJson(
      (object as Record<string, unknown>)[key],
      key,
      path,
      ancestors,
    );
    json += `${first ? '' : ','}${quotedKey}:${member}`;
    first = false;
    path.pop();
  }
  return json + '}';
}

/**
 * A string as JSON. Most strings need no escape and are quoted as they are; the others go
 * through JSON.stringify, which escapes U+0000 and lone surrogates (`\\u0000`, `\\ud800`):
 * only a string whose JSON holds an escape (or the text of one) is then looked at
 * character by character for what PostgreSQL refuses.
 */
function quote(
  text: string,
  what: 'contains' | 'is a key that contains',
): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  const json = JSON.stringify(text);
  if (json.includes('\\u')) {
    const problem = unsafeCharacter(text);
    if (problem !== null)
      throw new PayloadProblem(
        `${what} ${problem}, which PostgreSQL cannot store`,
      );
  }
  return json;
}

/** What JSON.stringify escapes in a string: control characters, `"`, `\\`, surrogates. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

const NOT_EXOTIC = Symbol('not exotic');
const BIGINT_PROBLEM = new PayloadProblem(
  'is a BigInt, which JSON cannot represent (convert it to a string)',
);

/**
 * For an object that is neither plain nor an array: the primitive JSON.stringify would
 * write for a boxed primitive (`new Number(1)` is 1, `new Number(NaN)` then refused like
 * NaN), a refusal for what JSON cannot hold (binary data, Map, Set), or NOT_EXOTIC.
 * Checked before toJSON: Buffer has one, and would arrive as { type: 'Buffer', data: [...] }.
 */
function exoticValue(object: object): unknown {
  if (
    ArrayBuffer.isView(object) ||
    object instanceof ArrayBuffer ||
    object instanceof Map ||
    object instanceof Set
  ) {
    throw new PayloadProblem(
      `is ${article(object.constructor.name)}, which JSON cannot represent (convert it to ${
        object instanceof Map || object instanceof Set
          ? 'an array or object'
          : 'a string, e.g. base64'
      })`,
    );
  }
  // JSON.stringify converts boxed primitives with ToNumber / ToString (which call a user's
  // valueOf / toString: a throw is reported at the path like a getter's).
  if (object instanceof Number) return Number(object);
  if (object instanceof String) return String(object);
  if (object instanceof Boolean) return object.valueOf();
  if (object instanceof BigInt) throw BIGINT_PROBLEM;
  if (object instanceof Symbol)
    throw new PayloadProblem('is a boxed symbol, which JSON cannot represent');
  return NOT_EXOTIC;
}

const DATE_TO_JSON = Date.prototype.toJSON;
const DATE_TO_ISO = Date.prototype.toISOString;

function article(noun: string): string {
  return `${/^[AEIO]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function invalid(
  jobName: string,
  path: ReadonlyArray<string | number>,
  list: PayloadList,
  index: number,
  problem: string,
): InvalidPayloadError {
  return new InvalidPayloadError(
    jobName,
    formatPath(path, list, index),
    problem,
  );
}

/** `payload.items[2].name`, `payloads[3]["bad\u0000key"]`, `jobs[3].payload.at`. */
export function formatPath(
  path: ReadonlyArray<string | number>,
  list: PayloadList = undefined,
  index = -1,
): string {
  let text =
    list === 'payloads'
      ? `payloads[${index}]`
      : list === 'jobs'
        ? `jobs[${index}].payload`
        : 'payload';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(step)) text += `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}
