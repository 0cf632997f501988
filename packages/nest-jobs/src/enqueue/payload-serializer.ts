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
 * Dates become their ISO string; other `toJSON` methods are called and their result is
 * checked like the rest. A getter, `toJSON` or Proxy trap that throws is an
 * `InvalidPayloadError` at its path, never a raw error.
 */
export function serializePayload(
  jobName: string,
  payload: unknown,
  maxBytes: number,
  list: PayloadList = undefined,
  index = -1,
): string {
  const path: Array<string | number> = [];
  let json: string | undefined;
  try {
    checkJsonValue(payload, path, [], false);
    json = JSON.stringify(payload);
    // JSON.stringify escapes U+0000 and lone surrogates (`\u0000`, `\ud800`): one native
    // search of the text for `\u` instead of a test per string. It also finds other control
    // characters and a literal backslash-u; only then does a second walk look at every string.
    if (typeof json === 'string' && json.includes('\\u')) {
      path.length = 0;
      checkJsonValue(payload, path, [], true);
    }
  } catch (error) {
    if (error instanceof PayloadProblem)
      throw invalid(jobName, path, list, index, error.problem);
    // The walk leaves `path` at the value that threw (pops are skipped on a throw). A
    // toJSON or getter that changed its answer between the walk and stringify lands here too.
    throw invalid(
      jobName,
      path,
      list,
      index,
      `could not be read: ${describeError(error)}`,
    );
  }
  if (typeof json !== 'string') {
    // Only a value whose toJSON answered differently the second time gets here.
    throw invalid(jobName, [], list, index, 'did not serialise to JSON');
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

/** What the walk found wrong at `path`; turned into an `InvalidPayloadError` by the caller. */
class PayloadProblem {
  constructor(readonly problem: string) {}
}

/**
 * Walks the payload; `path` holds the keys and indexes down to `value`, and becomes a
 * printable path (`payload.items[2].at`) only when something fails; `ancestors` holds the
 * objects above `value` (a cycle check: payloads are shallow, so a stack beats a Set). This
 * runs for every enqueued value, so it allocates nothing unless it throws. `checkText`: also
 * look at every key and string (the second walk, once the JSON text showed one is refused).
 */
function checkJsonValue(
  value: unknown,
  path: Array<string | number>,
  ancestors: object[],
  checkText: boolean,
): void {
  switch (typeof value) {
    case 'string':
      if (checkText) {
        const problem = unsafeCharacter(value);
        if (problem !== null)
          throw new PayloadProblem(
            `contains ${problem}, which PostgreSQL cannot store`,
          );
      }
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new PayloadProblem(`is ${value}, which JSON cannot represent`);
      return;
    case 'undefined':
      throw new PayloadProblem(
        'is undefined, which JSON cannot represent (use null, or omit the property)',
      );
    case 'bigint':
      throw new PayloadProblem(
        'is a BigInt, which JSON cannot represent (convert it to a string)',
      );
    case 'function':
      throw new PayloadProblem('is a function, which JSON cannot represent');
    case 'symbol':
      throw new PayloadProblem('is a symbol, which JSON cannot represent');
  }
  if (value === null) return;
  const object = value as object;
  // Before toJSON: Buffer has one, and would arrive as { type: 'Buffer', data: [...] }.
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
  if (ancestors.length >= MAX_PAYLOAD_DEPTH) {
    throw new PayloadProblem(
      `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels (MAX_PAYLOAD_DEPTH)`,
    );
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    if (object instanceof Date) {
      if (Number.isNaN(object.getTime()))
        throw new PayloadProblem('is an invalid Date');
      if (toJSON === DATE_TO_JSON) return;
    }
    // JSON.stringify stores what toJSON returns: check that, with the key stringify passes.
    const key = path.length === 0 ? '' : String(path[path.length - 1]);
    const replaced: unknown = toJSON.call(object, key);
    if (replaced === undefined)
      throw new PayloadProblem(
        'has a toJSON() that returned undefined, which JSON drops',
      );
    if (replaced !== object) {
      ancestors.push(object);
      checkJsonValue(replaced, path, ancestors, checkText);
      ancestors.pop();
      return;
    }
  }
  if (ancestors.includes(object))
    throw new PayloadProblem('is a circular reference');
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i += 1) {
      path.push(i);
      checkJsonValue(object[i], path, ancestors, checkText);
      path.pop();
    }
  } else {
    if (Object.getOwnPropertySymbols(object).length > 0) {
      throw new PayloadProblem('has symbol keys, which JSON drops');
    }
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
      path.push(key);
      if (checkText) {
        const problem = unsafeCharacter(key);
        if (problem !== null)
          throw new PayloadProblem(
            `is a key that contains ${problem}, which PostgreSQL cannot store`,
          );
      }
      checkJsonValue(
        (object as Record<string, unknown>)[key],
        path,
        ancestors,
        checkText,
      );
      path.pop();
    }
  }
  ancestors.pop();
}

const DATE_TO_JSON = Date.prototype.toJSON;

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
