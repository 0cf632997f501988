import { InvalidPayloadError } from '../errors/invalid-payload.error.js';

/**
 * Serialises a payload to JSON, refusing anything JSON.stringify would silently change or
 * drop (undefined, functions, symbols, NaN, Map/Set...) or throws on (BigInt, cycles), so a
 * handler receives exactly what was enqueued. Objects with `toJSON` (e.g. Date) are allowed.
 */
export function serializePayload(
  jobName: string,
  payload: unknown,
  maxBytes: number,
): string {
  checkJsonValue(jobName, payload, [], []);
  const json = JSON.stringify(payload);
  // A UTF-16 unit is at most 3 bytes of UTF-8: most payloads are checked without counting.
  if (json.length * 3 <= maxBytes) return json;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new InvalidPayloadError(
      jobName,
      'payload',
      `is ${bytes} bytes of JSON, over the limit of ${maxBytes} (option maxPayloadBytes)`,
    );
  }
  return json;
}

/**
 * Walks the payload; `path` holds the keys and indexes down to `value`, and becomes a
 * printable path (`payload.items[2].at`) only when something fails; `ancestors` holds the
 * objects above `value` (a cycle check: payloads are shallow, so a stack beats a Set). This
 * runs for every enqueued value, so it allocates nothing unless it throws.
 */
function checkJsonValue(
  jobName: string,
  value: unknown,
  path: Array<string | number>,
  ancestors: object[],
): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw invalid(
          jobName,
          path,
          `is ${value}, which JSON cannot represent`,
        );
      return;
    case 'undefined':
      throw invalid(
        jobName,
        path,
        'is undefined, which JSON cannot represent (use null, or omit the property)',
      );
    case 'bigint':
      throw invalid(
        jobName,
        path,
        'is a BigInt, which JSON cannot represent (convert it to a string)',
      );
    case 'function':
      throw invalid(
        jobName,
        path,
        'is a function, which JSON cannot represent',
      );
    case 'symbol':
      throw invalid(jobName, path, 'is a symbol, which JSON cannot represent');
  }
  if (value === null) return;
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    if (object instanceof Date && Number.isNaN(object.getTime()))
      throw invalid(jobName, path, 'is an invalid Date');
    return;
  }
  if (ancestors.includes(object))
    throw invalid(jobName, path, 'is a circular reference');
  if (
    object instanceof Map ||
    object instanceof Set ||
    ArrayBuffer.isView(object) ||
    object instanceof ArrayBuffer
  ) {
    throw invalid(
      jobName,
      path,
      `is a ${object.constructor.name}, which JSON cannot represent (convert it to an array or object)`,
    );
  }
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let index = 0; index < object.length; index += 1) {
      path.push(index);
      checkJsonValue(jobName, object[index], path, ancestors);
      path.pop();
    }
  } else {
    if (Object.getOwnPropertySymbols(object).length > 0) {
      throw invalid(jobName, path, 'has symbol keys, which JSON drops');
    }
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
      path.push(key);
      checkJsonValue(
        jobName,
        (object as Record<string, unknown>)[key],
        path,
        ancestors,
      );
      path.pop();
    }
  }
  ancestors.pop();
}

function invalid(
  jobName: string,
  path: ReadonlyArray<string | number>,
  problem: string,
): InvalidPayloadError {
  return new InvalidPayloadError(jobName, formatPath(path), problem);
}

function formatPath(path: ReadonlyArray<string | number>): string {
  let text = 'payload';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(step)) text += `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}
