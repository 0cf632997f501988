// One measurement in its own process, under the Node 22 binary: loads one system's adapter,
// runs one scenario, sends the result to the orchestrator over IPC and exits. A fresh process
// per measurement means no system inherits another's JIT state, pools or heap.
import { installProbe } from './child/query-probe.mjs';

const config = JSON.parse(process.argv[2]);

async function main() {
  const systemModule = await import(`./systems/${config.system}.mjs`);
  const variant = systemModule.VARIANTS[config.variant];
  if (!variant)
    throw new Error(`${config.system} has no variant ${config.variant}`);
  const adapter = systemModule.createAdapter({
    url: config.url,
    variant: config.variant,
  });
  installProbe((text, name) => adapter.classify(text, name));
  const scenario = await import(`./scenarios/${config.scenario}.mjs`);
  try {
    // A system with a server of its own (Redis) starts it first: the CPU figures of the
    // scenario are then that server's, not PostgreSQL's.
    await adapter.prepare?.();
    const serverPid =
      (await adapter.serverPid?.()) ?? config.postmasterPid ?? null;
    const result = await scenario.run({
      adapter,
      sizes: config.sizes,
      pgPid: serverPid,
      system: config.system,
      extra: config.extra ?? {},
      config,
    });
    return {
      ...result,
      server: serverPid === config.postmasterPid ? 'PostgreSQL' : 'Redis',
      variantLabel: variant.label,
      options: variant.describe,
      node: process.version,
    };
  } finally {
    await adapter
      .close()
      .catch((error) =>
        console.error(`[child] close failed: ${error.message}`),
      );
  }
}

main().then(
  (result) => process.send({ type: 'result', result }, () => process.exit(0)),
  (error) =>
    process.send(
      { type: 'error', message: error.message, stack: error.stack },
      () => process.exit(1),
    ),
);
