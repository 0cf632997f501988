// Runs one measurement in a child process under the Node 22 binary and returns its result.
// The child's output is prefixed and sent to stderr so the tables on stdout stay readable;
// past a few dozen lines it is only counted (a system that logs a warning per job would
// otherwise bury the progress), and the count is returned with the result.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { node22Path } from './node22.mjs';

const CHILD = fileURLToPath(new URL('../child.mjs', import.meta.url));

const SHOWN_LINES = 20;

function prefixLines(stream, prefix, output) {
  let pending = '';
  const emit = (line) => {
    output.lines += 1;
    if (output.lines <= SHOWN_LINES) process.stderr.write(`${prefix}${line}\n`);
    else if (output.lines === SHOWN_LINES + 1)
      process.stderr.write(`${prefix}(further output counted, not shown)\n`);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) emit(line);
  });
  stream.on('end', () => pending && emit(pending));
}

/** Resolves with the child's result (plus `outputLines`); rejects on its error, a crash or the timeout. */
export function runChild(config, { timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(config)], {
      execPath: node22Path(),
      // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the children.
      execArgv: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const prefix = `  [${config.system}/${config.variant} ${config.scenario}] `;
    const output = { lines: 0 };
    prefixLines(child.stdout, prefix, output);
    prefixLines(child.stderr, prefix, output);
    let message = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    child.on('message', (m) => {
      message = m;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (message?.type === 'result')
        resolve({ ...message.result, outputLines: output.lines });
      else if (message?.type === 'error')
        reject(
          Object.assign(new Error(message.message), {
            childStack: message.stack,
          }),
        );
      else
        reject(new Error(`child exited (${signal ?? code}) without a result`));
    });
  });
}
