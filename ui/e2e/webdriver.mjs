// A small W3C WebDriver client (tauri-driver → WebKitWebDriver); Node 20's fetch is enough.
import { writeFile } from 'node:fs/promises';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class Driver {
  constructor(base, sessionId) {
    this.base = base;
    this.sessionId = sessionId;
  }

  static async start(base, application, args = []) {
    const res = await request(base, 'POST', '/session', {
      capabilities: { alwaysMatch: { 'tauri:options': { application, args } } },
    });
    return new Driver(base, res.sessionId);
  }

  async cmd(method, path, body) {
    return request(this.base, method, `/session/${this.sessionId}${path}`, body);
  }

  async quit() {
    await this.cmd('DELETE', '').catch(() => {});
  }

  async find(css, { timeout = 10000, visible = true } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        const res = await this.cmd('POST', '/element', { using: 'css selector', value: css });
        const el = new Element(this, res[ELEMENT]);
        if (!visible || (await el.displayed())) return el;
      } catch (e) {
        last = e;
      }
      await sleep(100);
    }
    throw new Error(`no element ${css} within ${timeout} ms${last ? `: ${last.message}` : ''}`);
  }

  async findAll(css) {
    const res = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return res.map((r) => new Element(this, r[ELEMENT]));
  }

  async gone(css, timeout = 10000) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if ((await this.findAll(css)).length === 0) return;
      await sleep(100);
    }
    throw new Error(`${css} still present after ${timeout} ms`);
  }

  async exec(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async execAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  async keys(value) {
    // Key actions on the focused element (e.g. Escape = \uE00C, Tab = \uE004).
    const actions = [];
    for (const ch of value) actions.push({ type: 'keyDown', value: ch }, { type: 'keyUp', value: ch });
    await this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'kb', actions }] });
    await this.cmd('DELETE', '/actions').catch(() => {});
  }

  async title() {
    return this.cmd('GET', '/title');
  }

  async setWindow(width, height) {
    await this.cmd('POST', '/window/rect', { width, height }).catch(() => {});
  }

  /** Screenshot after two animation frames, so it shows the current frame. */
  async screenshot(file) {
    await this.execAsync(
      'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
    );
    const b64 = await this.cmd('GET', '/screenshot');
    await writeFile(file, Buffer.from(b64, 'base64'));
  }
}

export class Element {
  constructor(driver, id) {
    this.driver = driver;
    this.id = id;
  }
  async click() {
    // Centre the element first so the sticky page bar cannot cover it.
    await this.driver.exec('arguments[0].scrollIntoView({ block: "center" });', [this.ref()]);
    await this.driver.cmd('POST', `/element/${this.id}/click`, {});
  }
  ref() {
    return { [ELEMENT]: this.id };
  }
  async type(text) {
    await this.driver.cmd('POST', `/element/${this.id}/value`, { text });
  }
  async clear() {
    await this.driver.cmd('POST', `/element/${this.id}/clear`, {});
  }
  async text() {
    return this.driver.cmd('GET', `/element/${this.id}/text`);
  }
  async attr(name) {
    return this.driver.cmd('GET', `/element/${this.id}/attribute/${name}`);
  }
  async prop(name) {
    return this.driver.cmd('GET', `/element/${this.id}/property/${name}`);
  }
  async displayed() {
    return this.driver.cmd('GET', `/element/${this.id}/displayed`);
  }
}

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    throw new Error(`${method} ${path}: ${v.error ?? res.status} ${v.message ?? ''}`);
  }
  return json.value;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
