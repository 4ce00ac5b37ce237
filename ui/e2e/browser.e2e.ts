// End to end in a real browser: `xunying serve` on a temporary library of toy scenes,
// driven through Chromium with playwright-core. The queries differ by colour, which the
// toy model recognises reliably. Screenshots of the main screens go to docs/screenshots.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { writeScene, type Scene } from './scenes';

const REPO = resolve(__dirname, '../..');
const TARGET = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target');
const BINARY = join(TARGET, 'debug', 'xunying');
const CHROMIUM = process.env.XUNYING_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(REPO, 'docs', 'screenshots');

// A folder name with a space, `#`, `%` and Chinese, which the UI must show as it is.
const FOLDER_A = '红色 #1 %';
const FOLDER_B = 'other photos';

const BLUE_SQUARE: Scene = { width: 320, height: 240, objects: [{ colour: 'blue', shape: 'square', box: [180, 90, 280, 190] }] };
const SCENES_A: [string, Scene][] = [
  ['red circle.png', { width: 320, height: 240, objects: [{ colour: 'red', shape: 'circle', box: [40, 60, 150, 170] }] }],
  ['purple.png', { width: 300, height: 300, objects: [{ colour: 'purple', shape: 'triangle', box: [90, 80, 210, 200] }] }],
];
const SCENES_B: [string, Scene][] = [
  ['blue square.png', BLUE_SQUARE],
  ['green.png', { width: 280, height: 200, objects: [{ colour: 'green', shape: 'triangle', box: [30, 40, 150, 160] }] }],
  ['yellow.png', { width: 240, height: 320, objects: [{ colour: 'yellow', shape: 'circle', box: [60, 120, 180, 240] }] }],
  ['red triangle.png', { width: 320, height: 240, objects: [{ colour: 'red', shape: 'triangle', box: [170, 50, 290, 170] }] }],
];
// The example photo for query by image lies outside the library.
const EXAMPLE: Scene = { width: 256, height: 256, objects: [{ colour: 'green', shape: 'triangle', box: [120, 100, 230, 210] }] };

let workDir = '';
let server: ChildProcess | null = null;
let url = '';
let context: BrowserContext;
let page: Page;

function xunying(args: string[]) {
  return spawnSync(BINARY, ['--data-dir', join(workDir, 'data'), '--model', join(REPO, 'models/toy/bundle'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, XUNYING_MODEL: '', XUNYING_DATA_DIR: '' },
  });
}

async function startServer(): Promise<string> {
  const child = spawn(BINARY, ['--data-dir', join(workDir, 'data'), '--model', join(REPO, 'models/toy/bundle'), 'serve', '--bind', '127.0.0.1', '--port', '0', '--ui', join(REPO, 'ui/dist')], {
    cwd: REPO,
    env: { ...process.env, XUNYING_MODEL: '', XUNYING_DATA_DIR: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let stderr = '';
  child.stderr?.on('data', (data) => (stderr += String(data)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`xunying serve printed no URL; stderr: ${stderr}`)), 60_000);
    let stdout = '';
    child.stdout?.on('data', (data) => {
      stdout += String(data);
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`xunying serve exited with ${code}: ${stderr}`)));
  });
}

async function searchFor(text: string): Promise<string[]> {
  const input = page.locator('.search-input');
  await input.fill('');
  await input.fill(text);
  await page.locator(`.search-view[data-results-for=${JSON.stringify(text)}]`).waitFor();
  return tileTitles();
}

async function tileTitles(): Promise<string[]> {
  return page.locator('.tile').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('title') ?? ''));
}

function fileName(path: string): string {
  return path.split('/').pop() ?? path;
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

beforeAll(async () => {
  expect(existsSync(BINARY), `build the binary first: cargo build (looked for ${BINARY})`).toBe(true);
  expect(existsSync(CHROMIUM), `install Chromium (apt-get install chromium); looked for ${CHROMIUM}`).toBe(true);
  workDir = mkdtempSync(join(tmpdir(), 'xunying-e2e-'));
  for (const [folder, scenes] of [[FOLDER_A, SCENES_A], [FOLDER_B, SCENES_B]] as const) {
    mkdirSync(join(workDir, 'photos', folder), { recursive: true });
    for (const [name, scene] of scenes) writeScene(join(workDir, 'photos', folder, name), scene);
  }
  writeScene(join(workDir, 'example.png'), EXAMPLE);
  mkdirSync(SCREENSHOTS, { recursive: true });

  const indexed = xunying(['index', '--quiet', '--settle-ms', '0', join(workDir, 'photos', FOLDER_A), join(workDir, 'photos', FOLDER_B)]);
  expect(indexed.status, indexed.stderr).toBe(0);

  url = await startServer();
  // playwright-core takes the fresh profile folder as `userDataDir` and passes it on as
  // Chromium's --user-data-dir.
  context = await chromium.launchPersistentContext(join(workDir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
  });
  page = await context.newPage();
  await page.goto(url);
  await page.locator('.search-input').waitFor();
});

afterAll(async () => {
  await context?.close();
  server?.kill('SIGINT');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('browser mode', () => {
  it('drops the token from the address bar', () => {
    expect(page.url()).not.toContain('token=');
  });

  it('finds the blue photo by an English query', async () => {
    const paths = await searchFor('a blue square');
    expect(fileName(paths[0])).toBe('blue square.png');
    await expect(page.locator('.tile .score').first().textContent()).resolves.toMatch(/%/);
    await screenshot('search');
  });

  it('finds the blue photo by a Chinese query', async () => {
    const paths = await searchFor('蓝色的正方形');
    expect(fileName(paths[0])).toBe('blue square.png');
  });

  it('draws the matched box where the object is', async () => {
    await searchFor('blue square');
    await page.locator('.tile').first().click();
    const image = page.locator('.lightbox-image');
    await image.waitFor();
    await page.waitForFunction(() => (document.querySelector('.lightbox-image') as HTMLImageElement | null)?.complete === true);
    const region = page.locator('[data-testid="lightbox-region"]');
    await region.waitFor();
    const imageBox = await image.boundingBox();
    const regionBox = await region.boundingBox();
    expect(imageBox).toBeTruthy();
    expect(regionBox).toBeTruthy();
    const scale = imageBox!.width / BLUE_SQUARE.width;
    const centreX = (regionBox!.x - imageBox!.x + regionBox!.width / 2) / scale;
    const centreY = (regionBox!.y - imageBox!.y + regionBox!.height / 2) / scale;
    const [x0, y0, x1, y1] = BLUE_SQUARE.objects[0].box;
    expect(centreX).toBeGreaterThan(x0);
    expect(centreX).toBeLessThan(x1);
    expect(centreY).toBeGreaterThan(y0);
    expect(centreY).toBeLessThan(y1);
    await expect(page.locator('[data-testid="lightbox-path"]').textContent()).resolves.toContain(FOLDER_B);
    await screenshot('lightbox');
    await page.keyboard.press('Escape');
    await expect(page.locator('.lightbox').isHidden()).resolves.toBe(true);
  });

  it('filters by folder', async () => {
    await searchFor('red');
    const folderB = join(workDir, 'photos', FOLDER_B);
    const realB = (await import('node:fs')).realpathSync(folderB);
    const done = page.waitForResponse((r) => r.url().endsWith('/api/search'));
    await page.locator('[data-testid="filter-folder"]').selectOption(realB);
    await done;
    await page.waitForFunction((folder) => document.querySelector('.tile')?.getAttribute('title')?.startsWith(folder), realB);
    const paths = await tileTitles();
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p.startsWith(realB))).toBe(true);
    expect(fileName(paths[0])).toBe('red triangle.png');
    await page.locator('[data-testid="filter-folder"]').selectOption('');
  });

  it('shows special folder names unchanged', async () => {
    const paths = await searchFor('red circle');
    const red = paths.find((p) => p.endsWith('red circle.png'));
    expect(red).toContain(`/${FOLDER_A}/`);
    const option = page.locator('[data-testid="filter-folder"] option', { hasText: FOLDER_A });
    await expect(option.count()).resolves.toBe(1);
  });

  it('queries by an example image', async () => {
    await page.locator('.search-input').fill('');
    await page.locator('[data-testid="image-input"]').setInputFiles(join(workDir, 'example.png'));
    await page.locator('.search-view[data-results-for="image:example.png"]').waitFor();
    const paths = await tileTitles();
    await page.locator('.example-chip button').click();
    expect(fileName(paths[0])).toBe('green.png');
  });

  it('switches the language', async () => {
    await expect(page.locator('nav a').first().textContent()).resolves.toBe('Search');
    await page.locator('[data-testid="lang-switch"]').click();
    await expect(page.locator('nav a').first().textContent()).resolves.toBe('搜索');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await expect(page.locator('.search-input').getAttribute('placeholder')).resolves.toContain('红色');
    const paths = await searchFor('黄色的圆形');
    expect(fileName(paths[0])).toBe('yellow.png');
    await screenshot('search-zh');
  });

  it('shows the library and settings screens', async () => {
    await page.goto(url.replace(/\?token=.*$/, '#/library'));
    await page.locator('.folder-list li').first().waitFor();
    await expect(page.locator('.folder-list li').count()).resolves.toBe(2);
    await expect(page.locator('.folder-list').textContent()).resolves.toContain(FOLDER_A);
    await screenshot('library');
    await page.goto(url.replace(/\?token=.*$/, '#/settings'));
    await page.locator('[data-testid="setting-language"]').waitFor();
    await screenshot('settings');
    await page.goto(url.replace(/\?token=.*$/, '#/welcome'));
    await page.locator('.welcome-view [data-testid="model-status"]').waitFor();
    await screenshot('welcome');
  });

  it('moves through results with the keyboard', async () => {
    await page.goto(url.replace(/\?token=.*$/, '#/search'));
    await page.locator('.search-input').waitFor();
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('/');
    await expect(page.evaluate(() => document.activeElement?.className)).resolves.toContain('search-input');
    await searchFor('orange');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await expect(page.locator('.tile.selected').getAttribute('data-index')).resolves.toBe('1');
    await page.keyboard.press('Enter');
    await page.locator('.lightbox-image').waitFor();
    await page.keyboard.press('Escape');
    await expect(page.locator('.lightbox').isHidden()).resolves.toBe(true);
  });
});
