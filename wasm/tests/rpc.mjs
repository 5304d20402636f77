// The WebAssembly build of voices-wasm behind a line protocol, for the equivalence test
// (tests/native_and_wasm.rs): one JSON request per line in, the export's answer (one
// JSON text) per line out. The test sends the native build the very same calls.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { initSync, changes, check, evaluate, Keyring, Preview } from '../pkg/voices_core.js';

initSync({ module: readFileSync(new URL('../pkg/voices_core_bg.wasm', import.meta.url)) });

let preview = null;
let keyring = null;
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const { op, args } = JSON.parse(line);
  let answer;
  if (op === 'check') answer = check(...args);
  else if (op === 'evaluate') answer = evaluate(...args);
  else if (op === 'changes') answer = changes(...args);
  else if (op === 'start') {
    preview?.free();
    preview = new Preview(...args);
    answer = preview.started();
  } else if (op === 'keyring_new') {
    keyring?.free();
    keyring = new Keyring(Buffer.from(args[0], 'base64'), args[1]);
    answer = keyring.opened();
  } else if (op === 'keyring_open') answer = keyring.open(...args);
  else if (op === 'keyring_open_each') answer = keyring.open_each(...args);
  else if (preview && typeof preview[op] === 'function') answer = preview[op](...args);
  else answer = JSON.stringify({ rpc_error: `no operation ${op}` });
  process.stdout.write(answer + '\n');
}
