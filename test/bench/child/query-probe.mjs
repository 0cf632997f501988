// Counts and times the statements a system sends, by kind (claim, complete, insert, notify...),
// by wrapping pg.Client.prototype.query: all four systems (TypeORM included) talk through the
// one `pg` in node_modules, so the same probe sees each of them without touching their code.
// It answers "how many round trips per job, how many jobs per claim, how long does a claim
// take", which throughput alone cannot. Overhead: one performance.now() pair and a Map lookup
// per statement, small next to a round trip.
import pg from 'pg';

const kindsByText = new Map();
let classify = () => 'other';
let installed = false;
let recording = false;
let stats = new Map();

function statFor(kind) {
  let stat = stats.get(kind);
  if (!stat) {
    stat = {
      count: 0,
      ms: 0,
      rows: 0,
      durations: [],
      serverDurations: [],
      serverPerRow: [],
    };
    stats.set(kind, stat);
  }
  return stat;
}

function kindOf(config) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text !== 'string') return 'other';
  const name = typeof config === 'object' ? config.name : undefined;
  // Keyed by name and text: the same text may run named (the worker) and unnamed (an EXPLAIN).
  const key = name ? `${name}\u0000${text}` : text;
  let kind = kindsByText.get(key);
  if (kind === undefined) {
    kind = classify(text, name);
    if (kindsByText.size < 10_000) kindsByText.set(key, kind);
  }
  return kind;
}

function record(kind, started, result) {
  if (!recording) return;
  const ms = performance.now() - started;
  const stat = statFor(kind);
  stat.count += 1;
  stat.ms += ms;
  const rows = Array.isArray(result) ? result.at(-1) : result;
  stat.rows += rows?.rowCount ?? rows?.rows?.length ?? 0;
  if (stat.durations.length < 200_000) stat.durations.push(ms);
  // nest-jobs' claims say how long they ran on the server (statementMs, the last row's).
  const server = rows?.rows?.at?.(-1)?.statementMs;
  if (typeof server === 'number' && stat.serverDurations.length < 200_000)
    stat.serverDurations.push(server);
  const returned = rows?.rows?.length ?? 0;
  if (
    typeof server === 'number' &&
    returned >= 20 &&
    stat.serverPerRow.length < 200_000
  )
    stat.serverPerRow.push(server / returned);
}

/** Installs the wrapper once; `classifier(text, name)` names the kind of each statement. */
export function installProbe(classifier) {
  classify = classifier;
  if (installed) return;
  installed = true;
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function probedQuery(config, values, callback) {
    // Submittables (cursors, streams) and anything exotic pass through untimed.
    if (config && typeof config.submit === 'function')
      return original.apply(this, arguments);
    const kind = kindOf(config);
    const started = performance.now();
    const cb =
      typeof callback === 'function'
        ? callback
        : typeof values === 'function'
          ? values
          : null;
    if (cb) {
      const timed = (err, res) => {
        if (!err) record(kind, started, res);
        cb(err, res);
      };
      return typeof callback === 'function'
        ? original.call(this, config, values, timed)
        : original.call(this, config, timed);
    }
    if (config && typeof config.callback === 'function')
      return original.apply(this, arguments);
    const promise = original.apply(this, arguments);
    return promise.then((res) => {
      record(kind, started, res);
      return res;
    });
  };
}

export function startRecording() {
  stats = new Map();
  recording = true;
}

/** Stops recording; returns { kind: { count, ms, rows, p50Ms, p99Ms, serverP50Ms, serverP99Ms } }. */
export function stopRecording() {
  recording = false;
  const out = {};
  for (const [kind, stat] of stats) {
    const quantiles = (values) => {
      const sorted = Float64Array.from(values).sort();
      return (p) =>
        sorted.length
          ? sorted[
              Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)
            ]
          : null;
    };
    const at = quantiles(stat.durations);
    const onServer = quantiles(stat.serverDurations);
    out[kind] = {
      count: stat.count,
      ms: stat.ms,
      rows: stat.rows,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      // The statement's own time on the server, where it said (null elsewhere).
      serverP50Ms: onServer(0.5),
      serverP99Ms: onServer(0.99),
      // Per claimed row (claims of 20 rows or more), p10 / p50 / p90: how much concurrent
      // claims spread what a row seems to cost.
      serverPerRowMs: [0.1, 0.5, 0.9].map(quantiles(stat.serverPerRow)),
    };
  }
  return out;
}
