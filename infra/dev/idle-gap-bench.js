#!/usr/bin/env node
// How much slower this machine runs the same code right after a CPU core idled: a fixed, code-heavy
// task (JSON, a Map, string splits, base64, a sort, a regex: a small Recommend's mix of builtins) is
// timed back to back and then with idle gaps between runs. On the 2-core VM of docs/benchmarks.md it
// took ~270 µs back to back and ~600–670 µs 1–20 ms apart, which is why a lone Recommend there costs
// several times the CPU of one in a busy stream. Usage: node infra/dev/idle-gap-bench.js
'use strict';

const RUNS_PER_GAP = 200;
const GAPS_MS = [0, 1, 5, 20, 0];

const payload = {
  items: Array.from({ length: 200 }, (_, i) => ({ id: `item-${i}`, score: (i * 7919) % 1000 / 1000, reasons: [`similar-to:item-${(i * 7) % 600}`, 'trending'], category: `c${i % 13}` })),
};

function task() {
  const json = JSON.stringify(payload);
  const parsed = JSON.parse(json);
  const byId = new Map();
  for (const item of parsed.items) {
    byId.set(item.id, item);
    item.reasons.map((reason) => reason.split(':')).filter((parts) => parts.length > 1);
  }
  const encoded = Buffer.from(json).toString('base64').length;
  const top = [...byId.values()].sort((a, b) => b.score - a.score).slice(0, 10);
  return encoded + top.length + /item-(\d+)/.exec(json)[1].length;
}

function timeRuns(gapMs) {
  return new Promise((resolve) => {
    const micros = [];
    const step = () => {
      const started = process.hrtime.bigint();
      task();
      micros.push(Number(process.hrtime.bigint() - started) / 1e3);
      if (micros.length === RUNS_PER_GAP) return resolve(micros.sort((a, b) => a - b));
      if (gapMs === 0) setImmediate(step);
      else setTimeout(step, gapMs);
    };
    step();
  });
}

(async () => {
  for (let i = 0; i < 2000; i += 1) task(); // JIT warm-up
  for (const gapMs of GAPS_MS) {
    const micros = await timeRuns(gapMs);
    const at = (q) => micros[Math.min(micros.length - 1, Math.ceil(q * micros.length) - 1)];
    process.stdout.write(`${gapMs === 0 ? 'back to back' : `${gapMs} ms apart`}: median ${at(0.5).toFixed(0)} µs, p90 ${at(0.9).toFixed(0)} µs (${RUNS_PER_GAP} runs)\n`);
  }
})();
