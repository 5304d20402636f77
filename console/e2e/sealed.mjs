// Sealed answers read in the browser (issue 12 item 4): the coordinator's identity, made by
// `voices keygen` and protected by a passphrase, is opened in the page by the WebAssembly
// module; the sealed answers of the response page, the table and the history show in clear;
// "Forget key" hides them again. Nothing of the identity, its passphrase or the clear
// answers is in any request the page makes; the server records only that sealed answers
// were opened, with the public key.
//
// The answers are sealed here with age-encryption (the age format's JavaScript
// implementation by its designer), as the app seals them: one age file per answer to the
// project's key, base64, in a revision that says the device validated it. Runs last: once
// the project has a key, the other scenarios' data is what it was.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { PNG } from 'pngjs';
import { FORM, VERSION } from './data.mjs';
import { COORDINATOR, PROJECT } from './server.mjs';
import { shot, signIn } from './scenarios.mjs';

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const PASSPHRASE = 'e2e identity passphrase 7';
const TOWN = 'Mfukozaladi';
const FIRST_NAME = 'Marker-Sealed-Imani-41';
const SECOND_NAME = 'Marker-Sealed-Imani-42';
const MEMBER = 'Marker-Sealed-Member-43';
const PHOTO_NAME = 'Marker-Sealed-photo-44.png';

async function seal(recipient, text) {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return Buffer.from(await e.encrypt(text)).toString('base64');
}

/** A 96×64 PNG (a red square on grey) of a sensitive question's photo. */
function photo() {
  const png = new PNG({ width: 96, height: 64 });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 96; x++) {
      const inside = x > 30 && x < 66 && y > 14 && y < 50;
      png.data.set(inside ? [200, 40, 40, 255] : [120, 120, 120, 255], (y * 96 + x) * 4);
    }
  }
  return PNG.sync.write(png);
}

/** The name a sealed file answer's file goes by (`Sealed::file_name` in the core). */
function sealedFileName(sealed) {
  return `sealed-${createHash('sha256').update(sealed).digest('hex').slice(0, 32)}.age`;
}

/** Every request the page makes: URL, headers and body, as bytes. */
function recordRequests(page) {
  const seen = [];
  page.on('request', (request) => {
    seen.push({
      url: request.url(),
      headers: JSON.stringify(request.headers()),
      body: request.postDataBuffer() ?? Buffer.alloc(0),
    });
  });
  return seen;
}

export const sealedScenarios = [
  {
    name: 'sealed answers open in the page with the identity, which never reaches the server',
    async run(ctx) {
      const { page, server } = ctx;
      const cliBin = process.env.VOICES_CLI_BIN;
      check(cliBin, 'set VOICES_CLI_BIN to the voices command (cargo build -p voices-cli)');
      const keys = mkdtempSync(join(tmpdir(), 'voices-console-e2e-keys-'));
      try {
        const identityPath = join(keys, 'coordinator.age');
        const recipient = execFileSync(cliBin, ['keygen', '--output', identityPath], {
          env: { ...process.env, VOICES_IDENTITY_PASSPHRASE: PASSPHRASE },
          encoding: 'utf8',
        }).trim();
        check(/^age1[0-9a-z]+$/.test(recipient), `voices keygen printed the public key, not: ${recipient}`);
        const identityFile = readFileSync(identityPath);
        server.cli(['project', 'key', 'add', recipient, '--project', PROJECT]);

        // Device A sends a response with a sealed name, then changes the name (two sealed
        // values in the history) and adds a household member with a sealed name.
        const response = '5ea1ed00-0000-4000-a000-000000000001';
        const at = Date.UTC(2026, 10, 30, 9, 0, 0);
        // Its photo was sealed on the device too (as the app seals a sensitive question's
        // file): the server holds only the sealed file, named by the sealed answer.
        const photoBytes = photo();
        const sealedPhoto = Buffer.from(await (() => {
          const e = new Encrypter();
          e.addRecipient(recipient);
          return e.encrypt(photoBytes);
        })());
        const photoSha = createHash('sha256').update(sealedPhoto).digest('hex');
        const put = await fetch(`${ctx.base}/api/v1/projects/${PROJECT}/attachments/${photoSha}?offset=0&size=${sealedPhoto.length}`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${server.devices.A.token}`, 'Content-Type': 'application/octet-stream' },
          body: sealedPhoto,
        });
        check(put.status === 200, `upload of the sealed photo: ${put.status} ${await put.text()}`);
        const photoAnswer = await seal(recipient, PHOTO_NAME);
        const revision = (id, seq, seen, set, files) => ({
          id,
          response,
          form: FORM,
          version: VERSION,
          actor: server.devices.A.id,
          seq,
          hlc: `${at + seq * 60_000}.0`,
          seen,
          set,
          status: 'finalized',
          validated: true,
          ...(files ? { files } : {}),
        });
        await server.upload('A', [
          revision('5ea1ed00-0000-4000-a000-0000000000a1', 1, {}, {
            '/village': TOWN,
            '/resp_name': { sealed: await seal(recipient, FIRST_NAME) },
            '/sex': 'female',
            '/age': '33',
            '/disability': 'no',
            '/water': 'well',
            '/member[]': '1',
            '/member[1]/member_name': { sealed: await seal(recipient, MEMBER) },
            '/member[1]/member_age': '9',
            '/photo': { sealed: photoAnswer },
          }, { [sealedFileName(photoAnswer)]: photoSha }),
          revision('5ea1ed00-0000-4000-a000-0000000000a2', 2, { [server.devices.A.id]: 1 }, {
            '/resp_name': { sealed: await seal(recipient, SECOND_NAME) },
          }),
        ]);

        const requests = recordRequests(page);
        // Earlier scenarios leave the browser signed in as the admin: start as the coordinator.
        await ctx.browser.clearCookies();
        await signIn(ctx, COORDINATOR);
        await page.goto(`${ctx.base}/p/${PROJECT}/responses/${response}`);
        await page.getByRole('heading', { name: 'History' }).waitFor();
        const name = page.locator('.answers dt', { hasText: 'Respondent name' }).locator('xpath=following-sibling::dd[1]');
        await page.getByLabel('Show personal data').check();
        await name.filter({ hasText: 'sealed' }).waitFor();
        check((await name.textContent()).trim() === 'sealed', 'the name is sealed before the key is opened');
        const photoAnswerText = page.locator('.answers dt', { hasText: 'Photo of the water point' }).locator('xpath=following-sibling::dd[1]');
        await photoAnswerText.locator('[data-sealed-file]').waitFor();
        check(
          (await photoAnswerText.textContent()).includes('open your identity'),
          'the sealed photo says to open the identity to view it',
        );

        // Open the identity in the page.
        await page.getByText('Open sealed answers').click();
        await page.getByLabel('Identity file').setInputFiles(identityPath);
        await page.getByLabel('Passphrase of the identity').fill('not the passphrase at all');
        await page.getByRole('button', { name: 'Open', exact: true }).click();
        await page.getByText('This passphrase does not open the identity file.').waitFor({ timeout: 60_000 });
        await page.getByLabel('Passphrase of the identity').fill(PASSPHRASE);
        await page.getByRole('button', { name: 'Open', exact: true }).click();
        await page.getByText('Sealed answers open').waitFor({ timeout: 60_000 });
        await name.filter({ hasText: SECOND_NAME }).waitFor();
        await page.locator('.answers dd', { hasText: MEMBER }).first().waitFor();
        // The sealed photo: fetched sealed, opened in the page, shown from memory.
        const thumbnail = page.locator(`img[data-picture="${PHOTO_NAME}"]`);
        await thumbnail.waitFor({ timeout: 60_000 });
        const decoded = await thumbnail.evaluate(async (img) => {
          if (!img.complete) await new Promise((resolve) => img.addEventListener('load', resolve, { once: true }));
          await img.decode();
          return { width: img.naturalWidth, src: img.src };
        });
        check(decoded.width === 96, `the opened photo decodes to the picture sealed (width ${decoded.width})`);
        check(decoded.src.startsWith('blob:'), `the opened photo is shown from the page's memory, not ${decoded.src}`);
        const fetched = requests.filter((r) => r.url.includes(`/files/${sealedFileName(photoAnswer)}`));
        check(fetched.length > 0, 'the page fetched the sealed file by its sealed name');
        // The history compares the two sealed names in clear.
        const history = page.locator('.history');
        await history.locator('ins', { hasText: FIRST_NAME }).first().waitFor();
        await history.locator('ins', { hasText: MEMBER }).first().waitFor();
        check((await history.locator('.masked', { hasText: 'sealed' }).count()) === 0, 'every sealed change of the history is open');
        // A send-back comment quoting an opened answer is refused in the page: comments travel
        // in clear (the request check below would see the name in a body).
        await page.getByTestId('send-back-comment').fill(`Is ${SECOND_NAME.toLowerCase()} her name?`);
        await page.getByTestId('send-back').click();
        await page.getByText('This comment quotes a sealed answer opened in this tab', { exact: false }).waitFor();
        check(!requests.some((r) => r.url.endsWith(`/responses/${response}/review`)), 'the quoting comment was not sent');
        await page.getByTestId('send-back-comment').fill('');
        await shot(ctx, 'sealed-open');

        // The table: the row found by its clear village shows the name in clear.
        await page.goto(`${ctx.base}/p/${PROJECT}/responses?form=${FORM}&pii=true&q=${TOWN}`);
        const rows = page.locator('.scroller tbody tr[aria-rowindex]');
        await rows.first().locator('a').waitFor();
        // A page load starts the tab anew: the key is not kept anywhere, so it is closed.
        await page.getByText('Open sealed answers').waitFor();
        check(!(await rows.first().textContent()).includes(SECOND_NAME), 'a reload forgot the key');
        check((await rows.first().textContent()).includes('sealed'), 'the table says the name is sealed');
        await page.getByText('Open sealed answers').click();
        await page.getByLabel('Identity file').setInputFiles(identityPath);
        await page.getByLabel('Passphrase of the identity').fill(PASSPHRASE);
        await page.getByRole('button', { name: 'Open', exact: true }).click();
        await page.getByText('Sealed answers open').waitFor({ timeout: 60_000 });
        await rows.first().filter({ hasText: SECOND_NAME }).waitFor();

        // Forget key: sealed again.
        await page.getByRole('button', { name: 'Forget key' }).click();
        await page.getByText('Open sealed answers').waitFor();
        check(!(await rows.first().textContent()).includes(SECOND_NAME), 'forgetting the key hides the name');

        // Nothing of the identity, its passphrase or a clear answer went to the server.
        const secrets = [
          ['the passphrase', Buffer.from(PASSPHRASE)],
          ['the identity file', identityFile.subarray(0, 64)],
          ['the identity file (base64)', Buffer.from(identityFile.toString('base64').slice(0, 40))],
          ['a secret key', Buffer.from('AGE-SECRET-KEY-')],
          ['a clear sealed answer', Buffer.from('Marker-Sealed')],
        ];
        check(requests.length > 0, 'requests were recorded');
        for (const r of requests) {
          for (const [what, secret] of secrets) {
            check(!r.body.includes(secret) && !r.url.includes(secret.toString()) && !r.headers.includes(secret.toString()), `${what} is in a request to ${r.url}`);
          }
        }
        // The opening itself was recorded: twice (each time the key was opened), by the
        // coordinator, with the public key only.
        const opened = requests.filter((r) => r.url.endsWith(`/projects/${PROJECT}/sealed-opened`));
        check(opened.length === 2, `the page recorded 2 openings, not ${opened.length}`);
        check(JSON.parse(opened[0].body.toString()).recipients[0] === recipient, 'the opening names the public key');
        const audit = await server.apiGet(`/audit?project=${PROJECT}&action=open_sealed`);
        const entries = audit.entries.filter((e) => e.actor === COORDINATOR.user);
        check(entries.length === 2, `the audit holds 2 openings by ${COORDINATOR.user}, not ${entries.length}: ${JSON.stringify(audit).slice(0, 600)}`);
        check(entries.every((e) => e.target === recipient), 'the audit names the public key');
      } finally {
        rmSync(keys, { recursive: true, force: true });
      }
    },
  },
];
