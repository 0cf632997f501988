// One worker process of the contention scenario (issue 25, point 6): forked by the scenario's
// child, it loads the same system adapter, boots it (init: connections, a Nest context...) and
// says `ready`; on `start` it starts the system's worker and reports its first handler call
// (a wall-clock time shared by every process) and its progress; on `stop` it stops the worker
// gracefully and sends back its ledger (how many times each seq ran here) and the statements
// it sent, then exits. The scenario merges the ledgers: exactly once holds across processes.
import { ledger } from './ledger.mjs';
import { installProbe, startRecording, stopRecording } from './query-probe.mjs';

const { system, variant, url, capacity } = JSON.parse(process.argv[2]);
const PROGRESS_EVERY = 1_000; // jobs between progress messages: a few hundred IPC messages per drain

/** Milliseconds since the epoch, sub-millisecond: comparable across processes. */
const wallNow = () => performance.timeOrigin + performance.now();

async function main() {
  const { createAdapter } = await import(`../systems/${system}.mjs`);
  const adapter = createAdapter({ url, variant });
  installProbe((text, name) => adapter.classify(text, name));
  await adapter.init();
  ledger.reset(capacity);
  let reported = 0;
  let cpuAtStart;
  ledger.onRun = () => {
    if (ledger.handled === 1) process.send({ type: 'first', at: wallNow() });
    if (ledger.handled - reported >= PROGRESS_EVERY) {
      process.send({ type: 'progress', handled: ledger.handled });
      reported = ledger.handled;
    }
  };
  process.on('message', async (message) => {
    try {
      if (message.type === 'start') {
        cpuAtStart = process.cpuUsage();
        startRecording();
        await adapter.startWorker();
      } else if (message.type === 'flush') {
        // The scenario's count of handled jobs must not wait for the next thousand.
        process.send({ type: 'progress', handled: ledger.handled });
        reported = ledger.handled;
      } else if (message.type === 'stop') {
        // This process's CPU over the drain (the stop cue comes right after its end).
        const cpu = process.cpuUsage(cpuAtStart);
        const statements = stopRecording();
        await adapter.stopWorker();
        await adapter.close();
        process.send(
          {
            type: 'done',
            runs: Buffer.from(ledger.runs.buffer).toString('base64'),
            duplicates: ledger.duplicates,
            outOfRange: ledger.outOfRange,
            statements,
            cpuSeconds: (cpu.user + cpu.system) / 1e6,
          },
          () => process.exit(0),
        );
      }
    } catch (error) {
      process.send(
        { type: 'error', message: error.message, stack: error.stack },
        () => process.exit(1),
      );
    }
  });
  process.send({ type: 'ready' });
}

main().catch((error) =>
  process.send(
    { type: 'error', message: error.message, stack: error.stack },
    () => process.exit(1),
  ),
);
