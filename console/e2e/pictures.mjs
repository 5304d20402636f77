// A response's picture (issue 13, "pictures previewed"): device A uploads a real PNG the way
// the app does (by its SHA-256, then a revision whose `files` names it), and the response's
// page shows it as a thumbnail that really decodes, opens it large, and saves the same bytes.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { FORM, VERSION } from './data.mjs';
import { PROJECT } from './server.mjs';
import { axeProblems, shot, signIn } from './scenarios.mjs';

const WIDTH = 320;
const HEIGHT = 240;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** A WIDTH×HEIGHT PNG: a blue water point on green, so it is plainly a picture. */
function picture() {
  const png = new PNG({ width: WIDTH, height: HEIGHT });
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 4;
      const inside = (x - 160) ** 2 + (y - 120) ** 2 < 75 ** 2;
      png.data.set(inside ? [30, 90, 200, 255] : [60, 150, 70, 255], i);
    }
  }
  return PNG.sync.write(png);
}

/** The picture's natural width once the image has loaded (0 if it cannot be decoded). */
async function decodedWidth(image) {
  await image.waitFor();
  return image.evaluate(async (img) => {
    if (!img.complete) await new Promise((resolve) => img.addEventListener('load', resolve, { once: true }));
    try {
      await img.decode();
    } catch {
      return 0;
    }
    return img.naturalWidth;
  });
}

export const picturesScenarios = [
  {
    name: 'a response synced with a picture previews it, enlarges it and saves it',
    async run(ctx) {
      const { page, base, server, artifacts } = ctx;
      const device = server.devices.A;
      const response = server.responses.find((r) => r.device === 'A' && r.index >= 10 && !r.set['/photo']);
      const bytes = picture();
      const sha = createHash('sha256').update(bytes).digest('hex');

      // The app sends the file first, then the revision naming it.
      const put = await fetch(`${base}/api/v1/projects/${PROJECT}/attachments/${sha}?offset=0&size=${bytes.length}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/octet-stream' },
        body: bytes,
      });
      equal(put.status, 200, `upload of the picture: ${await put.text()}`);
      await server.upload('A', [
        {
          id: randomUUID(),
          response: response.id,
          form: FORM,
          version: VERSION,
          actor: device.id,
          seq: 2,
          hlc: `${response.at + 60_000}.0`,
          seen: {},
          set: { '/photo': 'pump.png' },
          files: { 'pump.png': sha },
        },
      ]);

      await signIn(ctx);
      await page.goto(`${base}/p/${PROJECT}/responses/${response.id}`);
      await page.getByRole('heading', { name: 'Response', exact: true }).waitFor();
      const thumbnail = page.locator('img[data-picture="pump.png"]');
      equal(await decodedWidth(thumbnail), WIDTH, 'the thumbnail decodes to the picture sent');
      equal(await thumbnail.getAttribute('alt'), 'Picture pump.png', 'the thumbnail says what it is');
      await thumbnail.evaluate((img) => img.scrollIntoView({ block: 'center' }));
      await shot(ctx, 'picture');
      const problems = await axeProblems(ctx);
      equal(problems, [], 'serious or critical axe-core violations on the response with its picture');

      // Click to enlarge: the picture, large, in a dialog; Escape closes it.
      await page.getByRole('button', { name: 'Enlarge picture pump.png' }).click();
      const large = page.locator('dialog[open] img[data-picture-large="pump.png"]');
      equal(await decodedWidth(large), WIDTH, 'the enlarged picture decodes');
      await page.keyboard.press('Escape');
      await page.locator('dialog[open]').waitFor({ state: 'detached' });

      // Download: the very bytes the device sent, under the file's name.
      const downloading = page.waitForEvent('download');
      await page.locator('.answers').getByRole('link', { name: 'Download pump.png' }).click();
      const download = await downloading;
      equal(download.suggestedFilename(), 'pump.png', 'the saved file name');
      const saved = join(artifacts, 'downloaded-pump.png');
      await download.saveAs(saved);
      check(readFileSync(saved).equals(bytes), 'the saved file is the picture the device sent');

      // One view is one read: the thumbnail, the enlarged picture and the saved file are the
      // same fetched bytes, so the access audit records the picture once (the server
      // answers no-store, so each <img> of its own would read it again).
      const reads = (await server.apiGet(`/audit?action=read_response&limit=1000`)).entries.filter(
        (e) => e.target === response.id && String(e.detail).startsWith('file '),
      );
      equal(reads.length, 1, `reads of the picture in the audit: ${JSON.stringify(reads)}`);

      // Without a session the picture is not served.
      const anonymous = await fetch(`${base}/api/v1/projects/${PROJECT}/responses/${response.id}/files/pump.png`);
      equal(anonymous.status, 401, 'the picture without a session');
    },
  },
];
