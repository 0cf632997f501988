/**
 * Compile-time checks that the typed enqueue never promises a handler a type it will not
 * receive: a payload travels as JSON (the manual, section 4). Verified by `tsc -p test`;
 * each @ts-expect-error must stay an error. Nothing here runs.
 */
import {
  Job,
  type JobPayload,
  type JobsService,
  type NonJsonPayload,
} from 'nest-jobs';

interface TreeNode {
  label: string;
  children: TreeNode[];
}

class Handlers {
  @Job()
  plain(_payload: {
    at: string;
    tags: readonly string[];
    nested: { n: number | null; ok?: boolean };
  }) {}

  @Job()
  tree(_payload: TreeNode) {}

  @Job()
  loose(_payload: Record<string, unknown>) {}

  @Job()
  untyped(_payload: any) {}

  @Job()
  withDate(_payload: { user: string; at: Date }) {}

  @Job()
  withOptionalDeepDate(_payload: { items: Array<{ when?: Date | null }> }) {}

  @Job()
  withMap(_payload: { seen: Map<string, number> }) {}

  @Job()
  withBigInt(_payload: { cents: bigint }) {}

  @Job()
  withBuffer(_payload: { file: Buffer }) {}

  @Job()
  withCallback(_payload: { done: () => void }) {}

  @Job()
  bytes(_payload: Buffer) {}

  @Job()
  uint8(_payload: Uint8Array) {}
}

type Equal<A, B> =
  (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2
    ? true
    : false;
const assertType = <T extends true>(): T => true as T;

export async function jsonPayloadExamples(jobs: JobsService): Promise<void> {
  // JSON payload types, recursive ones, records and any keep their declared type.
  assertType<Equal<JobPayload<Handlers, 'tree'>, TreeNode>>();
  await jobs.enqueue(Handlers, 'plain', {
    at: new Date().toISOString(),
    tags: ['a'],
    nested: { n: null },
  });
  await jobs.enqueue(Handlers, 'tree', { label: 'root', children: [] });
  await jobs.enqueue(Handlers, 'loose', { anything: 1 });
  await jobs.enqueue(Handlers, 'untyped', 5);

  // A handler whose whole payload is a Buffer (or Uint8Array) takes bytes.
  assertType<Equal<JobPayload<Handlers, 'bytes'>, Uint8Array>>();
  await jobs.enqueue(Handlers, 'bytes', Buffer.from('raw'));
  await jobs.enqueue(Handlers, 'bytes', new Uint8Array([1, 2]));
  await jobs.enqueue(Handlers, 'uint8', Buffer.from('raw'));
  // @ts-expect-error a handler of bytes takes no JSON
  await jobs.enqueue(Handlers, 'bytes', { data: 'raw' });
  // @ts-expect-error nor a string
  await jobs.enqueue(Handlers, 'bytes', 'raw');
  // @ts-expect-error a JSON handler takes no bytes
  await jobs.enqueue(Handlers, 'tree', Buffer.from('raw'));

  // A handler whose payload holds what JSON changes or refuses cannot be enqueued typed.
  assertType<Equal<JobPayload<Handlers, 'withDate'>, NonJsonPayload>>();
  // @ts-expect-error the handler would receive `at` as a string, not a Date
  await jobs.enqueue(Handlers, 'withDate', { user: 'a', at: new Date() });
  // @ts-expect-error an optional Date deep in an array counts too
  await jobs.enqueue(Handlers, 'withOptionalDeepDate', { items: [{}] });
  // @ts-expect-error a Map is refused at enqueue
  await jobs.enqueue(Handlers, 'withMap', { seen: new Map() });
  // @ts-expect-error a BigInt is refused at enqueue
  await jobs.enqueue(Handlers, 'withBigInt', { cents: 5n });
  // @ts-expect-error binary data is refused at enqueue
  await jobs.enqueue(Handlers, 'withBuffer', { file: Buffer.from('x') });
  // @ts-expect-error a function is refused at enqueue
  await jobs.enqueueMany(Handlers, 'withCallback', [{ done: () => {} }]);
}
