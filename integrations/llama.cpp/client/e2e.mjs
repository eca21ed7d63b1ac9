#!/usr/bin/env node
// End-to-end client for a (patched) llama-server, driven through the official `openai` npm package so
// the test sees exactly what an ordinary OpenAI-compatible application sees.
//
// Runs from the folder install.sh fills (DIR/e2e.mjs), where 'openai' resolves from DIR/node_modules.
//
// For every --key NAME=APIKEY, in this order: models.list; chat (non-streaming); chat streaming;
// completion (non-streaming); completion streaming; chat with n=2. Each returned choice becomes one line
// of --out: {"id": "<NAME>-<kind>-<choice>", "account", "kind", "text", "finish_reason", "response_id"},
// the text exactly as returned (streaming: the deltas concatenated). --raw gets every non-streaming
// body and every streaming chunk, with status and headers, for tests that grep for leaked secrets. API
// keys are written to neither file.
//
// Checks: models.list is non-empty; each response has the expected number of choices, string texts,
// finish_reason "stop" or "length", one response id per stream; a key the server does not know gets
// openai.AuthenticationError (401) on chat and on models.list. Every failure is reported (nothing is
// retried: maxRetries 0) and the exit status is 1 if any call or check failed, 2 for bad arguments.
// Streaming requests carry "Connection: close" (see stream_request_options in openai_client.mjs for the
// llama-server keep-alive bug this avoids); --reuse-stream-connections leaves it out.
import crypto from 'node:crypto';

import { jsonl_file, no_file } from './jsonl_file.mjs';
import { describe_error, headers_object, make_client, openai, stream_request_options } from './openai_client.mjs';
import { exit_on_error, parse_keys, parse_options, usage_error } from './options.mjs';
import { prompts } from './prompts.mjs';

const usage = `usage: node e2e.mjs --base-url http://127.0.0.1:PORT/v1 --out FILE.jsonl --key NAME=APIKEY [--key ...]
                   [--max-tokens N (200)] [--seed S] [--raw FILE.jsonl] [--timeout-ms MS (60000)]
                   [--reuse-stream-connections] [--no-auth (the server checks no key: skip the 401 check)]
`;

const option_spec = {
  'base-url': { kind: 'string', required: true },
  out: { kind: 'string', required: true },
  key: { kind: 'list', required: true },
  'max-tokens': { kind: 'int', default: 200 },
  seed: { kind: 'int' },
  raw: { kind: 'string' },
  'timeout-ms': { kind: 'int', default: 60000 },
  'reuse-stream-connections': { kind: 'flag' },
  'no-auth': { kind: 'flag' },
};


// What an accepted choice may end with: "stop" (EOS or a stop string) or "length" (max_tokens).
const finish_reasons = new Set(['stop', 'length']);

const kinds = ['chat', 'chat-stream', 'completion', 'completion-stream', 'chat-n2'];

async function main() {
  const opts = parse_options(process.argv.slice(2), option_spec);
  const keys = parse_keys(opts.key);
  if (opts['max-tokens'] < 1) throw new usage_error(`--max-tokens: expected >= 1, got ${opts['max-tokens']}`);
  const out = new jsonl_file(opts.out);
  const raw = opts.raw ? new jsonl_file(opts.raw) : no_file;
  const run = { out, raw, failures: [], checks: [], notes: [], summary: [] };

  for (const [account_index, key] of keys.entries()) {
    const client = make_client({ base_url: opts['base-url'], api_key: key.api_key, timeout_ms: opts['timeout-ms'] });
    const model = await list_models(run, client, key.name);
    for (const [kind_index, kind] of kinds.entries()) {
      const prompt = prompts[(account_index * kinds.length + kind_index) % prompts.length];
      const request = { model, max_tokens: opts['max-tokens'], temperature: 1 };
      if (opts.seed !== undefined) request.seed = opts.seed;
      await run_kind(run, client, key.name, kind, prompt, request, opts['reuse-stream-connections']);
    }
  }
  // --no-auth: a server started without API keys (the unwatermarked control) accepts any key.
  if (!opts['no-auth']) await check_wrong_key(run, opts, keys);
  out.close();
  raw.close();
  return report(run, opts);
}

function check(run, name, ok, detail) {
  run.checks.push({ name, ok, detail });
}

async function list_models(run, client, account) {
  try {
    const { data: page, response } = await client.models.list().withResponse();
    const ids = page.data.map((m) => m.id);
    run.raw.write({ id: `${account}-models`, account, kind: 'models', status: response.status,
                    headers: headers_object(response.headers), body: page.body ?? page.data });
    check(run, `${account}: models.list is non-empty`, ids.length > 0, `models ${JSON.stringify(ids)}`);
    if (ids.length > 0) return ids[0];
  } catch (e) {
    run.failures.push({ account, kind: 'models', error: describe_error(e) });
  }
  // llama-server serves its one model whatever name is asked for.
  return 'default';
}

async function run_kind(run, client, account, kind, prompt, request, reuse_stream_connections) {
  const stream = kind.endsWith('-stream');
  const chat = kind.startsWith('chat');
  const body = { ...request, stream };
  if (chat) body.messages = [{ role: 'user', content: prompt }];
  else body.prompt = prompt;
  if (kind === 'chat-n2') body.n = 2;
  const api = chat ? client.chat.completions : client.completions;
  let result;
  try {
    const options = stream_request_options(reuse_stream_connections);
    result = stream ? await read_stream(run, api, body, account, kind, chat, options)
                    : await read_response(run, api, body, account, kind, chat);
  } catch (e) {
    run.failures.push({ account, kind, error: describe_error(e) });
    return;
  }
  const expected = kind === 'chat-n2' ? 2 : 1;
  const label = `${account}/${kind}`;
  const indices = result.choices.map((c) => c.index);
  check(run, `${label}: ${expected} choice(s)`,
        indices.length === expected && indices.every((index, i) => index === i), `indices ${JSON.stringify(indices)}`);
  for (const c of result.choices) {
    check(run, `${label}[${c.index}]: text is a string`, typeof c.text === 'string',
          `text ${JSON.stringify(c.text)}`);
    check(run, `${label}[${c.index}]: finish_reason stop|length`, finish_reasons.has(c.finish_reason),
          `finish_reason ${JSON.stringify(c.finish_reason)}`);
    if (c.text === '') run.notes.push(`${label}[${c.index}]: empty text (finish_reason ${c.finish_reason})`);
    const id = `${account}-${kind}-${c.index}`;
    run.out.write({ id, account, kind, text: c.text, finish_reason: c.finish_reason, response_id: result.response_id });
    run.summary.push(`  ${id}: ${typeof c.text === 'string' ? c.text.length : '?'} chars, ${c.finish_reason}`);
  }
  if (kind === 'chat-n2' && result.choices.length === 2 && result.choices[0].text === result.choices[1].text) {
    run.notes.push(`${label}: both choices have the same text`);
  }
}

async function read_response(run, api, body, account, kind, chat) {
  const { data, response } = await api.create(body).withResponse();
  run.raw.write({ id: `${account}-${kind}`, account, kind, status: response.status,
                  headers: headers_object(response.headers), body: data });
  const choices = (data.choices ?? []).map((c) => ({
    index: c.index,
    text: chat ? c.message?.content : c.text,
    finish_reason: c.finish_reason,
  }));
  return { response_id: data.id, choices };
}

// Concatenates the deltas per choice index. A stream that ends without a finish_reason for some
// choice was cut off (a server crash closes the socket cleanly enough for fetch not to complain).
async function read_stream(run, api, body, account, kind, chat, request_options) {
  const { data: stream, response } = await api.create(body, request_options).withResponse();
  const choices = new Map();
  const ids = new Set();
  let n_chunks = 0;
  for await (const chunk of stream) {
    run.raw.write({ id: `${account}-${kind}`, account, kind, status: response.status,
                    headers: n_chunks === 0 ? headers_object(response.headers) : undefined,
                    chunk_index: n_chunks, chunk });
    ++n_chunks;
    if (chunk.id !== undefined) ids.add(chunk.id);
    for (const c of chunk.choices ?? []) {
      const acc = choices.get(c.index) ?? { index: c.index, text: '', finish_reason: null };
      const piece = chat ? c.delta?.content : c.text;
      if (typeof piece === 'string') acc.text += piece;
      if (c.finish_reason) acc.finish_reason = c.finish_reason;
      choices.set(c.index, acc);
    }
  }
  const list = [...choices.values()].sort((a, b) => a.index - b.index);
  const unfinished = list.filter((c) => c.finish_reason === null).map((c) => c.index);
  if (list.length === 0 || unfinished.length > 0) {
    throw new Error(`stream ended after ${n_chunks} chunk(s) without a finish_reason for choice(s) ` +
                    `${list.length === 0 ? '(none seen)' : unfinished.join(',')}`);
  }
  check(run, `${account}/${kind}: one response id across ${n_chunks} chunks`, ids.size === 1,
        `ids ${JSON.stringify([...ids])}`);
  return { response_id: [...ids][0], choices: list };
}

// The server must refuse a key it was not given, and the client must surface that as the
// documented error class, not as a generic failure or an empty answer.
async function check_wrong_key(run, opts, keys) {
  let wrong;
  do wrong = `tritium-wrong-${crypto.randomBytes(12).toString('hex')}`;
  while (keys.some((k) => k.api_key === wrong));
  const client = make_client({ base_url: opts['base-url'], api_key: wrong, timeout_ms: opts['timeout-ms'] });
  const attempts = {
    chat: () => client.chat.completions.create({ model: 'default', max_tokens: 8, temperature: 1,
                                                 messages: [{ role: 'user', content: prompts[0] }] }),
    models: () => client.models.list(),
  };
  for (const [what, call] of Object.entries(attempts)) {
    const name = `wrong key: ${what} fails with AuthenticationError 401`;
    try {
      await call();
      check(run, name, false, 'request succeeded');
    } catch (e) {
      const ok = e instanceof openai.AuthenticationError && e.status === 401;
      run.raw.write({ id: `wrong-key-${what}`, account: null, kind: 'wrong-key', status: e.status ?? null,
                      headers: headers_object(e.headers), error: e.error ?? null });
      check(run, name, ok, describe_error(e));
    }
  }
}

function report(run, opts) {
  const lines = [...run.summary];
  const failed_checks = run.checks.filter((c) => !c.ok);
  lines.push(`e2e: ${run.out.lines} choice line(s) -> ${opts.out}` +
             (opts.raw ? `, ${run.raw.lines} raw line(s) -> ${opts.raw}` : ''));
  lines.push(`e2e: calls failed: ${run.failures.length}; checks: ${run.checks.length - failed_checks.length} passed, ` +
             `${failed_checks.length} failed`);
  for (const f of run.failures) lines.push(`  FAILED CALL ${f.account}/${f.kind}: ${f.error}`);
  for (const c of failed_checks) lines.push(`  FAILED CHECK ${c.name}: ${c.detail}`);
  for (const n of run.notes) lines.push(`  note: ${n}`);
  const ok = run.failures.length === 0 && failed_checks.length === 0;
  lines.push(ok ? 'e2e: OK' : 'e2e: FAILED');
  (ok ? process.stdout : process.stderr).write(lines.join('\n') + '\n');
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => exit_on_error(e, usage));
