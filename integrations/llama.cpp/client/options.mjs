// Command-line parsing shared by e2e.mjs and load.mjs.
// Hand-written rather than node:util parseArgs: that one is still experimental in node 18 and absent
// before 18.3, and the CI machine may run Debian 12's node 18.

export class usage_error extends Error {}

// spec: { name: { kind: 'string' | 'int' | 'number' | 'flag' | 'list', default?, required? } }.
// Returns { name: value } keyed by the option names as written (e.g. 'base-url').
export function parse_options(argv, spec) {
  const values = {};
  for (const [name, s] of Object.entries(spec)) {
    if (s.kind === 'list') values[name] = [];
    else if (s.kind === 'flag') values[name] = false;
    else if ('default' in s) values[name] = s.default;
  }
  for (let i = 0; i < argv.length; ++i) {
    let arg = argv[i];
    let inline = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    const s = name === null ? undefined : spec[name];
    if (s === undefined) throw new usage_error(`unknown argument: ${argv[i]}`);
    if (s.kind === 'flag') {
      if (inline !== null) throw new usage_error(`--${name} takes no value, got '${inline}'`);
      values[name] = true;
      continue;
    }
    let text = inline;
    if (text === null) {
      if (i + 1 >= argv.length) throw new usage_error(`--${name}: expected a value, got end of arguments`);
      text = argv[++i];
    }
    values[name] = s.kind === 'list' ? [...values[name], text] : convert(name, s.kind, text);
  }
  for (const [name, s] of Object.entries(spec)) {
    const missing = s.kind === 'list' ? values[name].length === 0 : values[name] === undefined;
    if (s.required && missing) throw new usage_error(`--${name} is required`);
  }
  return values;
}

function convert(name, kind, text) {
  if (kind === 'string') return text;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (kind === 'int' && !Number.isInteger(value))) {
    throw new usage_error(`--${name}: expected ${kind === 'int' ? 'an integer' : 'a number'}, got '${text}'`);
  }
  return value;
}

// "--key NAME=APIKEY" → { name, api_key }. Account names end up in record ids ("<name>-<kind>-<i>"),
// so they are restricted to characters that keep those ids unambiguous to split.
export function parse_keys(texts) {
  const keys = [];
  const seen = new Set();
  for (const text of texts) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? '' : text.slice(0, eq);
    const api_key = eq < 0 ? '' : text.slice(eq + 1);
    if (!/^[A-Za-z0-9_.]+$/.test(name) || api_key === '') {
      // Never echo the text: it holds an API key.
      throw new usage_error('--key: expected NAME=APIKEY with NAME of [A-Za-z0-9_.] and a non-empty key ' +
                            `(--key number ${keys.length + 1})`);
    }
    if (seen.has(name)) throw new usage_error(`--key: account name '${name}' given twice`);
    seen.add(name);
    keys.push({ name, api_key });
  }
  return keys;
}

// Prints the error and usage for bad arguments (exit 2), anything else with its stack (exit 1).
export function exit_on_error(e, usage) {
  if (e instanceof usage_error) {
    process.stderr.write(`error: ${e.message}\n${usage}`);
    process.exit(2);
  }
  process.stderr.write(`error: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
}
