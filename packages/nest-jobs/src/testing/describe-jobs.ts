import type { JobView } from '../admin/job-view.js';

/** At most this many jobs are listed in an assertion's message. */
const LISTED_JOBS = 10;

/** A value as one line of JSON (what a job's payload is), for messages. */
export function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Where `actual` does not contain `expected` (jsonb `@>` semantics, roughly: objects by
 * key, arrays by element), as diff lines: `- expected` / `+ actual`, each with its path.
 */
export function containmentDiff(
  expected: unknown,
  actual: unknown,
  path = 'payload',
): string[] {
  if (
    typeof expected === 'object' &&
    expected !== null &&
    !Array.isArray(expected) &&
    typeof actual === 'object' &&
    actual !== null &&
    !Array.isArray(actual)
  ) {
    return Object.entries(expected).flatMap(([key, value]) =>
      key in actual
        ? containmentDiff(
            value,
            (actual as Record<string, unknown>)[key],
            `${path}.${key}`,
          )
        : [`- ${path}.${key}: ${json(value)}`, `+ ${path}.${key}: (missing)`],
    );
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const missing = expected.filter(
      (item) => !actual.some((a) => containmentDiff(item, a).length === 0),
    );
    return missing.length === 0
      ? []
      : [
          `- ${path} to contain: ${json(missing)}`,
          `+ ${path}: ${json(actual)}`,
        ];
  }
  return json(expected) === json(actual)
    ? []
    : [`- ${path}: ${json(expected)}`, `+ ${path}: ${json(actual)}`];
}

/** The jobs found, one per line with their payload, and how each differs from `expected`. */
export function describeJobs(
  jobs: readonly JobView[],
  expected: unknown,
): string {
  const lines = jobs
    .slice(0, LISTED_JOBS)
    .flatMap((job) => [
      `  ${job.id} (${job.status}, queue ${job.queue}, run_at ${job.runAt.toISOString()}): ${json(job.payload)}`,
      ...(expected === undefined
        ? []
        : containmentDiff(expected, job.payload).map(
            (line) => `      ${line}`,
          )),
    ]);
  if (jobs.length > LISTED_JOBS)
    lines.push(`  ... and ${jobs.length - LISTED_JOBS} more`);
  return lines.join('\n');
}
