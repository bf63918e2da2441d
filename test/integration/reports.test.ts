import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { XMLParser } from 'fast-xml-parser';
import { isolatedStateBase, leftovers, removeAll, REPO, runCli, tempDir, writeScenario } from '../helpers/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('reports', () => {
  let dir: string;
  let base: string;
  beforeAll(async () => {
    dir = await tempDir('reports');
    base = await isolatedStateBase('reports');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(dir, base);
  });

  it('report.html is self-contained and its charts render in headless Chromium without errors', async () => {
    const run = join(dir, 'regressed');
    await cp(join(REPO, 'test', 'fixtures', 'runs', 'regressed'), run, { recursive: true });
    const r = await runCli(['report', run], {});
    assert.equal(r.exitCode, 0, String(r.stderr));
    for (const png of ['failure-rate', 'throughput', 'failure-classes', 'latency', 'timeline']) {
      assert.ok((await stat(join(run, 'charts', `${png}.png`))).size > 5000, png);
    }
    const html = await readFile(join(run, 'report.html'), 'utf8');
    // Inlined scripts and styles only; the browser below also fails on any non-file request.
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img[^>]+src=/, 'no external resources');
    for (const text of ['Machine and tools', 'OpenSSH_', 'maxstartups_drop', 'kex_exchange_identification', 'drop connection #', 'past MaxStartups']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }

    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (req) => !req.url().startsWith('file:') && problems.push(`network request: ${req.url()}`));
      await page.goto(`file://${join(run, 'report.html')}`);
      await page.waitForFunction(`document.querySelectorAll('canvas').length === 5`);
      // A string, so the test's TypeScript needs no DOM typings.
      const painted = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => {
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n / (data.length / 4);
      })`)) as number[];
      assert.equal(painted.length, 5);
      for (const [i, p] of painted.entries()) assert.ok(p > 0.01, `canvas ${i} is drawn (${p})`);
      await page.screenshot({ path: join(run, 'screenshot.png'), fullPage: true });
      assert.ok((await stat(join(run, 'screenshot.png'))).size > 20_000);
      assert.deepEqual(problems, []);
    } finally {
      await browser?.close();
    }
  });

  it('compare exits 1 on a regression and 0 on noise', async () => {
    const runs = join(REPO, 'test', 'fixtures', 'runs');
    const same = await runCli(['compare', join(runs, 'base'), join(runs, 'same')], {});
    assert.equal(same.exitCode, 0, String(same.stdout));
    assert.match(String(same.stdout), /0 regression\(s\) in 2 cell\(s\)/);
    const worse = await runCli(['compare', join(runs, 'base'), join(runs, 'regressed')], {});
    assert.equal(worse.exitCode, 1);
    assert.match(String(worse.stdout), /concurrency=40: REGRESSION\n {2}loss_rate: 0\.0% -> \d+\.\d% .*REGRESSION\n {2}failure_rate: 0\.0% -> \d+\.\d% .*REGRESSION/);
    const bad = await runCli(['compare', join(runs, 'base'), join(dir, 'nowhere')], {});
    assert.equal(bad.exitCode, 2);
  });

  it('suite runs a folder, writes an index, JUnit and a GitHub step summary; exit reflects thresholds', async () => {
    const folder = join(dir, 'suite');
    const common = `hosts: { target: { sshd: { MaxStartups: "1000" } } }\ndataset: { files: 6, size: 4KiB }\ntransfer: { to: target, concurrency: 3 }\n`;
    await mkdir(folder, { recursive: true });
    await writeScenario(folder, 'a-pass', `name: a-pass\n${common}thresholds: { failure_rate: "<= 0" }\n`);
    await writeScenario(folder, 'b-fail', `name: b-fail\n${common}thresholds: { throughput_mbps: ">= 100000" }\n`);
    const out = join(dir, 'suite-out');
    const junit = join(dir, 'suite.xml');
    const summaryFile = join(dir, 'step-summary.md');
    const r = await runCli(['suite', folder, '--out', out, '--junit', junit], { XFERBENCH_STATE_DIR: base, GITHUB_STEP_SUMMARY: summaryFile });
    assert.equal(r.exitCode, 1, String(r.stderr));
    assert.match(String(r.stdout), /PASS +a-pass/);
    assert.match(String(r.stdout), /FAIL +b-fail/);
    const index = await readFile(join(out, 'index.html'), 'utf8');
    assert.match(index, /href="a-pass\/report.html"/);
    assert.ok(existsSync(join(out, 'b-fail', 'report.html')));
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(await readFile(junit, 'utf8'));
    assert.equal(xml.testsuites.testsuite.length, 2);
    assert.equal(xml.testsuites['@failures'], '1');
    // Every scenario of the suite, then `run`, appends its table to the GitHub Actions job summary.
    const steps = await readFile(summaryFile, 'utf8');
    assert.match(steps, /### xferbench: a-pass ✅[\s\S]*### xferbench: b-fail ❌/);
    const single = await runCli(['run', join(folder, 'a-pass.yaml'), '--out', join(dir, 'single'), '--quiet'], { XFERBENCH_STATE_DIR: base, GITHUB_STEP_SUMMARY: summaryFile });
    assert.equal(single.exitCode, 0, String(single.stderr));
    assert.match(await readFile(summaryFile, 'utf8'), /### xferbench: a-pass ✅/);
  });
});
