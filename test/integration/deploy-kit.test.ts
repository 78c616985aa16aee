import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestApp, type TestApp } from '../support/app.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const alertsPath = 'deploy/prometheus/alerts.yml';
const alertTestsPath = 'deploy/prometheus/alerts.test.yml';
const prometheusExamplePath = 'deploy/prometheus/prometheus.example.yml';
const dashboardPath = 'deploy/grafana/paperboy.json';

/**
 * The PromQL of every rule in a rules file: `expr: <one line>` or `expr: |` and the more-indented
 * lines under it. (Read line by line rather than with a YAML library: the file is ours, and CI's
 * `promtool check rules` is what checks it is valid YAML and PromQL.)
 */
function ruleExpressions(text: string): string[] {
  const lines = text.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    const [, indent = '', rest = ''] = match;
    if (rest !== '|' && rest !== '>') {
      exprs.push(rest);
      return;
    }
    const block: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= indent.length) break;
      block.push(next.trim());
    }
    exprs.push(block.join('\n').trim());
  });
  return exprs;
}

interface Panel {
  type: string;
  title?: string;
  id?: number;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const datasourceUid = '${datasource}';

const panelsOf = (panels: Panel[]): Panel[] =>
  panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);

/** Metric names (ours, Node's and the process's) named in PromQL; label values and strings are not. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/\b(?:paperboy|process|nodejs)_[a-z0-9_]+\b/g)].map((match) => match[0]);
}

/** Every series name `/metrics` can export, from its `# TYPE` lines (histograms with their suffixes). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name = '', type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

const alertsText = read(alertsPath);
const alertExprs = ruleExpressions(alertsText);
const dashboard = JSON.parse(read(dashboardPath)) as Dashboard;
const dashboardExprs = panelsOf(dashboard.panels).flatMap((panel) =>
  (panel.targets ?? []).map((target) => target.expr ?? ''),
);
const alertNames = [...alertsText.matchAll(/^\s*- alert: (\S+)$/gm)].map((match) => match[1] ?? '');

describe('the operator kit in deploy/', () => {
  let app: TestApp;
  let scraped: Set<string>;

  beforeAll(async () => {
    app = await startTestApp({ workers: false });
    const metrics = await api(app, '/metrics');
    expect(metrics.status).toBe(200);
    scraped = exportedNames(metrics.text);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('reads every rule expression of alerts.yml', () => {
    const rules = [...alertsText.matchAll(/^\s*- (?:alert|record): /gm)].length;
    expect(alertExprs).toHaveLength(rules);
    expect(alertNames.length).toBeGreaterThanOrEqual(7);
    for (const expr of alertExprs) expect(expr).not.toBe('');
  });

  it('uses in its alert rules only metrics /metrics exports', () => {
    const used = new Set(alertExprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((name) => !scraped.has(name))).toEqual([]);
  });

  it('uses in its alert rules only recorded series it records', () => {
    const recorded = new Set([...alertsText.matchAll(/^\s*- record: (\S+)$/gm)].map((match) => match[1]));
    const used = alertExprs.flatMap((expr) => [...expr.matchAll(/\bpaperboy:[a-z0-9_:]+/g)].map((m) => m[0]));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !recorded.has(name))).toEqual([]);
  });

  it('uses in its dashboard only metrics /metrics exports, and no recorded series', () => {
    const used = new Set(dashboardExprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !scraped.has(name))).toEqual([]);
    // The dashboard works without the alert rules loaded.
    expect(dashboardExprs.filter((expr) => expr.includes('paperboy:'))).toEqual([]);
  });

  it('shows every paperboy metric on the dashboard', () => {
    const used = new Set(dashboardExprs.flatMap(metricNames));
    const ours = [...scraped].filter((name) => name.startsWith('paperboy_') && !/_(sum|count)$/.test(name));
    const histogramBases = new Set(
      ours.filter((name) => name.endsWith('_bucket')).map((name) => name.slice(0, -'_bucket'.length)),
    );
    const missing = ours.filter(
      (name) => !used.has(name) && !histogramBases.has(name) && !(name.endsWith('_bucket') && used.has(name)),
    );
    expect(missing, `not on the dashboard: ${missing.join(', ')}`).toEqual([]);
  });

  it('is an importable Grafana dashboard whose panels all use its data source variable', () => {
    expect(dashboard).toMatchObject({ title: 'paperboy', uid: 'paperboy' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    const panels = panelsOf(dashboard.panels);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: datasourceUid });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe(datasourceUid);
    }
    // No `${DS_…}` import inputs: the same file works from the import page and from provisioning.
    expect(read(dashboardPath)).not.toMatch(/\$\{DS_/);
  });

  it('has a firing and a quiet unit test for every alert', () => {
    const tests = read(alertTestsPath);
    for (const name of alertNames) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:(.*)`, 'g'))];
      expect(
        cases.some((match) => match[1]?.trim() === '[]'),
        `${name}: a case that does not fire`,
      ).toBe(true);
      expect(
        cases.some((match) => match[1]?.trim() === ''),
        `${name}: a case that fires`,
      ).toBe(true);
    }
  });

  it('is where the README says, and the example Prometheus config loads the rules', () => {
    const readme = read('README.md');
    for (const path of [alertsPath, dashboardPath, prometheusExamplePath, 'deploy/README.md']) {
      expect(readme, path).toContain(path);
      expect(existsSync(new URL(path, root)), path).toBe(true);
    }
    expect(read(prometheusExamplePath)).toMatch(/rule_files:\s*\n\s*- alerts\.yml/);
    expect(read('deploy/grafana/provisioning/dashboards.yml')).toContain('type: file');
  });

  const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
  const promtool = (...args: string[]) => {
    const result = spawnSync('promtool', args, {
      cwd: fileURLToPath(new URL('deploy/prometheus/', root)),
      encoding: 'utf8',
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };
  // CI installs promtool (Debian package prometheus) and runs these before the suites anyway.
  it.skipIf(!hasPromtool)(
    'passes promtool check rules, check config and test rules (skipped where promtool is not on PATH)',
    () => {
      for (const args of [
        ['check', 'rules', 'alerts.yml'],
        ['check', 'config', 'prometheus.example.yml'],
        ['test', 'rules', 'alerts.test.yml'],
      ]) {
        const result = promtool(...args);
        expect(result.status, `promtool ${args.join(' ')}: ${result.output}`).toBe(0);
        expect(result.output, `promtool ${args.join(' ')}`).toContain('SUCCESS');
      }
    },
    60_000,
  );
});
