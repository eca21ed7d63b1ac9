#!/usr/bin/env node
// Bounded load against a (patched) llama-server through the official `openai` npm package.
//
// Runs from the folder install.sh fills (DIR/load.mjs), where 'openai' resolves from DIR/node_modules.
//
// --requests requests in total, --concurrency workers pulling the next index from one shared counter.
// Request i goes to key i mod K (round-robin); whether it is chat or completion and streaming or not
// depends only on i (a hash of i, so the mix does not lock step with the key rotation), so two runs with
// the same arguments send the same requests. One line per finished request, written the moment it
// finishes, so a server killed mid-run (kill -9) leaves complete lines:
//   {"i", "account", "kind", "text", "finish_reason", "response_id", "ok": true}
//   {"i", "account", "kind", "ok": false, "error", "status"}
// A failure never stops the run. Exit status: 1 if any request failed, unless --allow-errors (then 0);
// 2 for bad arguments. The client never retries (maxRetries 0) and gives up after --timeout-ms.
// Streaming requests carry "Connection: close" (see stream_request_options in openai_client.mjs for the
// llama-server keep-alive bug this avoids); --reuse-stream-connections leaves it out.
import { jsonl_file } from './jsonl_file.mjs';
import { describe_error, make_client, stream_request_options } from './openai_client.mjs';
import { exit_on_error, parse_keys, parse_options, usage_error } from './options.mjs';
import { prompts } from './prompts.mjs';

const usage = `usage: node load.mjs --base-url http://127.0.0.1:PORT/v1 --out FILE.jsonl --key NAME=APIKEY [--key ...]
                    [--requests N (1000)] [--concurrency C (8)] [--max-tokens N (32)]
                    [--stream-fraction F (0.5)] [--seed S] [--timeout-ms MS (60000)] [--allow-errors]
                    [--reuse-stream-connections]
`;

const option_spec = {
  'base-url': { kind: 'string', required: true },
  out: { kind: 'string', required: true },
  key: { kind: 'list', required: true },
  requests: { kind: 'int', default: 1000 },
  concurrency: { kind: 'int', default: 8 },
  'max-tokens': { kind: 'int', default: 32 },
  'stream-fraction': { kind: 'number', default: 0.5 },
  seed: { kind: 'int' },
  'timeout-ms': { kind: 'int', default: 60000 },
  'allow-errors': { kind: 'flag' },
  'reuse-stream-connections': { kind: 'flag' },
};


// murmur3's 32-bit finaliser: a fixed, well-mixed function of the request index, so the request mix
// is reproducible without a hidden RNG.
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function plan_request(i, n_keys, stream_fraction) {
  const chat = (mix32(2 * i + 1) & 1) === 0;
  const stream = mix32(2 * i) / 2 ** 32 < stream_fraction;
  return {
    key_index: i % n_keys,
    chat,
    stream,
    kind: `${chat ? 'chat' : 'completion'}${stream ? '-stream' : ''}`,
    prompt: prompts[Math.floor(i / n_keys) % prompts.length],
  };
}

async function main() {
  const opts = parse_options(process.argv.slice(2), option_spec);
  const keys = parse_keys(opts.key);
  for (const name of ['requests', 'concurrency', 'max-tokens']) {
    if (opts[name] < 1) throw new usage_error(`--${name}: expected >= 1, got ${opts[name]}`);
  }
  const fraction = opts['stream-fraction'];
  if (fraction < 0 || fraction > 1) throw new usage_error(`--stream-fraction: expected 0..1, got ${fraction}`);

  const clients = keys.map((k) => make_client({ base_url: opts['base-url'], api_key: k.api_key,
                                                timeout_ms: opts['timeout-ms'] }));
  const out = new jsonl_file(opts.out);
  const tally = { ok: 0, failed: 0, by_kind: {}, errors: new Map(), first_failure: null };
  let next = 0;
  const started = process.hrtime.bigint();

  async function worker() {
    // JS runs one callback at a time, so next++ hands out each index exactly once.
    for (let i = next++; i < opts.requests; i = next++) {
      const plan = plan_request(i, keys.length, fraction);
      const account = keys[plan.key_index].name;
      let record;
      try {
        const r = await send(clients[plan.key_index], plan, opts);
        record = { i, account, kind: plan.kind, text: r.text, finish_reason: r.finish_reason,
                   response_id: r.response_id, ok: true };
      } catch (e) {
        record = { i, account, kind: plan.kind, ok: false, error: describe_error(e), status: e?.status ?? null };
      }
      out.write(record);
      count(tally, record);
    }
  }

  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  out.close();
  return report(tally, opts, seconds);
}

async function send(client, plan, opts) {
  const body = { model: 'default', max_tokens: opts['max-tokens'], temperature: 1, stream: plan.stream };
  if (opts.seed !== undefined) body.seed = opts.seed;
  if (plan.chat) body.messages = [{ role: 'user', content: plan.prompt }];
  else body.prompt = plan.prompt;
  const api = plan.chat ? client.chat.completions : client.completions;
  const options = plan.stream ? stream_request_options(opts['reuse-stream-connections']) : undefined;
  const result = await api.create(body, options);
  if (!plan.stream) {
    const c = result.choices?.[0];
    if (!c) throw new Error(`response ${result.id} has no choices`);
    return { text: plan.chat ? c.message?.content : c.text, finish_reason: c.finish_reason, response_id: result.id };
  }
  let text = '';
  let finish_reason = null;
  let response_id;
  let n_chunks = 0;
  for await (const chunk of result) {
    ++n_chunks;
    response_id ??= chunk.id;
    for (const c of chunk.choices ?? []) {
      const piece = plan.chat ? c.delta?.content : c.text;
      if (typeof piece === 'string') text += piece;
      if (c.finish_reason) finish_reason = c.finish_reason;
    }
  }
  // Without a finish_reason the text is a fragment, not a response: count it as a failure.
  if (finish_reason === null) throw new Error(`stream ended after ${n_chunks} chunk(s) without a finish_reason`);
  return { text, finish_reason, response_id };
}

function count(tally, record) {
  const k = (tally.by_kind[record.kind] ??= { ok: 0, failed: 0 });
  if (record.ok) {
    ++tally.ok;
    ++k.ok;
    return;
  }
  ++tally.failed;
  ++k.failed;
  tally.first_failure ??= record.i;
  tally.errors.set(record.error, (tally.errors.get(record.error) ?? 0) + 1);
}

function report(tally, opts, seconds) {
  const total = tally.ok + tally.failed;
  const lines = [
    `load: ${total} request(s) in ${seconds.toFixed(2)} s = ${(total / seconds).toFixed(1)} requests/s ` +
      `(${(tally.ok / seconds).toFixed(1)} ok/s), concurrency ${opts.concurrency}, max_tokens ${opts['max-tokens']}`,
    `load: ok ${tally.ok}, failed ${tally.failed}` +
      (tally.first_failure === null ? '' : ` (first failed index ${tally.first_failure})`) + ` -> ${opts.out}`,
  ];
  for (const [kind, k] of Object.entries(tally.by_kind).sort()) lines.push(`  ${kind}: ok ${k.ok}, failed ${k.failed}`);
  const errors = [...tally.errors.entries()].sort((a, b) => b[1] - a[1]);
  for (const [message, n] of errors.slice(0, 5)) lines.push(`  ${n} x ${message}`);
  if (errors.length > 5) lines.push(`  ... ${errors.length - 5} more distinct error message(s)`);
  const ok = tally.failed === 0 || opts['allow-errors'];
  if (tally.failed > 0) lines.push(opts['allow-errors'] ? 'load: some requests failed (allowed by --allow-errors)'
                                                         : 'load: FAILED (some requests failed; see --out)');
  (ok ? process.stdout : process.stderr).write(lines.join('\n') + '\n');
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => exit_on_error(e, usage));
