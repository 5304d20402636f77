// A small W3C WebDriver client (tauri-driver → WebKitWebDriver); Node 20's fetch is enough.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';

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

  async find(css, { timeout = 10000, visible = true, poll = 100 } = {}) {
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
      await sleep(poll);
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

  /** Screenshot of the app window as the X display shows it, after two animation frames
   * (so it shows the current frame). The app paints without GL (`src-tauri/src/webview.rs`),
   * and WebKitWebDriver's own screenshot command never returns in that mode, so the window's
   * rectangle is cut from a capture of the whole (virtual) display. */
  async screenshot(file) {
    await this.execAsync(
      'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
    );
    const rect = await this.cmd('GET', '/window/rect');
    const screen = parseXwd((await run('xwd', ['-root', '-silent'], { encoding: 'buffer', maxBuffer: 1 << 28 })).stdout);
    await writeFile(file, encodePng(crop(screen, rect)));
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

const run = promisify(execFile);

/** An `xwd` dump (ZPixmap, 24 or 32 bits per pixel, TrueColor) as RGB rows. */
export function parseXwd(buf) {
  const field = (i) => buf.readUInt32BE(i * 4);
  const [headerSize, version, format, , width, height] = [0, 1, 2, 3, 4, 5].map(field);
  const [byteOrder, bitsPerPixel, bytesPerLine] = [field(7), field(11), field(12)];
  const [redMask, greenMask, blueMask, colours] = [field(14), field(15), field(16), field(19)];
  if (version !== 7 || format !== 2 || (bitsPerPixel !== 24 && bitsPerPixel !== 32)) {
    throw new Error(`xwd: unsupported dump (version ${version}, format ${format}, ${bitsPerPixel} bits per pixel)`);
  }
  const shift = (mask) => 31 - Math.clz32(mask & -mask);
  const [rs, gs, bs] = [redMask, greenMask, blueMask].map(shift);
  const start = headerSize + colours * 12;
  // xwd writes 32 bits per pixel for a 24-bit screen, but 24 for some window sizes.
  const bytesPerPixel = bitsPerPixel / 8;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * bytesPerPixel;
      const px = byteOrder === 0 ? buf.readUIntLE(at, bytesPerPixel) : buf.readUIntBE(at, bytesPerPixel);
      const o = (y * width + x) * 3;
      rgb[o] = (px & redMask) >>> rs;
      rgb[o + 1] = (px & greenMask) >>> gs;
      rgb[o + 2] = (px & blueMask) >>> bs;
    }
  }
  return { width, height, rgb };
}

/** The part of an image inside `rect` (clamped to the image). */
export function crop(image, rect) {
  const x0 = Math.max(0, Math.round(rect.x ?? 0));
  const y0 = Math.max(0, Math.round(rect.y ?? 0));
  const width = Math.max(1, Math.min(image.width - x0, Math.round(rect.width)));
  const height = Math.max(1, Math.min(image.height - y0, Math.round(rect.height)));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y0 + y) * image.width + x0) * 3;
    image.rgb.copy(rgb, y * width * 3, from, from + width * 3);
  }
  return { width, height, rgb };
}

/** An 8-bit RGB PNG. */
export function encodePng({ width, height, rgb }) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) rgb.copy(rows, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
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
