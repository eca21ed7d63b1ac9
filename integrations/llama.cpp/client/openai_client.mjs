// Loads the pinned `openai` package and builds clients that never retry, so every failure the server
// causes is seen by the test instead of being papered over by the client's default two retries.
export const pinned_openai_version = '6.49.0';

let openai_module;
let installed;
try {
  openai_module = await import('openai');
  installed = (await import('openai/version')).VERSION;
} catch (e) {
  process.stderr.write(
    `error: cannot load the 'openai' package (${e.message}).\n` +
      `Run integrations/llama.cpp/client/install.sh DIR and start the copy of this script in DIR.\n`);
  process.exit(2);
}
export const openai = openai_module;

// A different version would make results from two machines incomparable; refuse early.
if (installed !== pinned_openai_version) {
  process.stderr.write(
    `error: openai ${installed} resolved from this script's folder, expected ${pinned_openai_version}\n`);
  process.exit(2);
}

export function make_client({ base_url, api_key, timeout_ms }) {
  return new openai.OpenAI({ baseURL: base_url, apiKey: api_key, maxRetries: 0, timeout: timeout_ms });
}

// "APIConnectionError: Connection error. <- TypeError: fetch failed <- Error: connect ECONNREFUSED …":
// the client's own message alone does not say whether the server refused, reset or timed out.
export function describe_error(e) {
  const parts = [];
  for (let c = e, depth = 0; c && depth < 4; c = c.cause, ++depth) {
    parts.push(c instanceof Error ? `${c.constructor.name}: ${c.message}` : String(c));
  }
  return parts.join(' <- ');
}

// Response headers as a plain object, for the raw dump that tests grep for leaked secrets.
export function headers_object(headers) {
  const out = {};
  if (headers) headers.forEach((value, name) => { out[name] = value; });
  return out;
}

// llama-server v0.4.0 closes the connection after every streamed response although it announced
// "Keep-Alive: timeout=5, max=100" (its chunked content provider returns false after sink.done(), which
// cpp-httplib treats as a cancelled write and ends the keep-alive loop without "Connection: close").
// Node's fetch then sometimes sends the next request on that dying socket and fails with
// "SocketError: other side closed" (27 of 300 streaming requests at concurrency 8). Asking for
// "Connection: close" on streaming requests stops the client from pooling a socket the server is going
// to close anyway; nothing is retried. allow_reuse keeps the upstream behaviour, to reproduce the race.
export function stream_request_options(allow_reuse) {
  return allow_reuse ? undefined : { headers: { connection: 'close' } };
}
