import { describe, expect, it } from 'vitest';
import {
  lineChart,
  niceStep,
  rankedBarChart,
  shorten,
  stackedBarChart,
} from '../../src/http/pages/charts.js';

const count = (markup: string, pattern: RegExp) => markup.match(pattern)?.length ?? 0;
const days = ['2026-11-26', '2026-11-27', '2026-11-28'];

describe('stackedBarChart', () => {
  const chart = stackedBarChart({
    title: 'Digests per day',
    description: 'By local date.',
    labels: days,
    series: [
      { name: 'sent', values: [3, 0, 5], tone: 'green' },
      { name: 'failed', values: [1, 0, 0], tone: 'red' },
    ],
  }).value;

  it('draws one rect per non-zero segment, stacked, with its number as a tooltip', () => {
    expect(count(chart, /<rect class="bar /g)).toBe(3);
    expect(chart).toContain('<title>2026-11-26 · sent: 3</title>');
    expect(chart).toContain('<title>2026-11-26 · failed: 1</title>');
    expect(chart).not.toContain('2026-11-27 · sent');
    // The tallest column (5) reaches a gridline at or above it: the axis goes 0, 2, 4, 6.
    expect(chart).toMatch(/<text class="tick"[^>]*>6<\/text>/);
  });

  it('is an image labelled by its title, with a legend and a table of every number', () => {
    expect(chart).toMatch(
      /<svg class="chart-svg" viewBox="0 0 640 240" role="img" aria-label="Digests per day">/,
    );
    expect(chart).toContain('<title>Digests per day</title><desc>By local date.</desc>');
    expect(count(chart, /<li><svg class="swatch"/g)).toBe(2);
    expect(chart).toContain('<th scope="row">2026-11-27</th><td>0</td><td>0</td><td>0</td>');
    expect(chart).toContain('<th scope="row">2026-11-26</th><td>3</td><td>1</td><td>4</td>');
  });

  it('says "No data yet" instead of an empty chart', () => {
    for (const empty of [
      stackedBarChart({ title: 'T', description: 'D', labels: [], series: [] }).value,
      stackedBarChart({
        title: 'T',
        description: 'D',
        labels: days,
        series: [{ name: 'a', values: [0, 0, 0] }],
      }).value,
    ]) {
      expect(empty).toContain('No data yet');
      expect(empty).not.toContain('<svg');
    }
  });

  it('labels at most eight ticks on a long axis, the newest day always among them', () => {
    const labels = Array.from({ length: 30 }, (_, index) => `day-${index}`);
    const long = stackedBarChart({
      title: 'T',
      description: 'D',
      labels,
      series: [{ name: 'a', values: labels.map((_, index) => index) }],
      tick: (label) => label.toUpperCase(),
    }).value;
    const ticks = [...long.matchAll(/text-anchor="middle">([^<]*)</g)].map((match) => match[1]);
    expect(ticks.length).toBeLessThanOrEqual(8);
    expect(ticks.at(-1)).toBe('DAY-29');
    expect(count(long, /<rect class="bar /g)).toBe(29);
  });
});

describe('lineChart', () => {
  it('draws one line per series and one point per value', () => {
    const chart = lineChart({
      title: 'Subscribers by status',
      description: 'End of day.',
      labels: days,
      series: [
        { name: 'active', values: [1, 2, 3] },
        { name: 'pending', values: [0, 1, 0] },
      ],
    }).value;
    expect(count(chart, /<polyline class="line /g)).toBe(2);
    expect(count(chart, /<circle class="point /g)).toBe(6);
    expect(chart).toContain('<title>2026-11-28 · active: 3</title>');
    // Tones follow the series' order when none is given.
    expect(chart).toContain('<polyline class="line tone-blue"');
    expect(chart).toContain('<polyline class="line tone-green"');
  });

  it('places a single day in the middle rather than dividing by zero', () => {
    const chart = lineChart({
      title: 'T',
      description: 'D',
      labels: ['2026-11-28'],
      series: [{ name: 'a', values: [4] }],
    }).value;
    expect(chart).not.toContain('NaN');
    expect(chart).not.toContain('Infinity');
    expect(count(chart, /<circle /g)).toBe(1);
  });
});

describe('rankedBarChart', () => {
  it('draws one bar per item, best first, with long labels shortened in the chart and whole in the table', () => {
    const long = 'a'.repeat(60);
    const chart = rankedBarChart({
      title: 'Top topics',
      description: 'Active subscribers.',
      labelHeading: 'Topic',
      items: [
        { label: 'diffusion', value: 4 },
        { label: long, value: 1 },
      ],
    }).value;
    expect(count(chart, /<rect class="bar /g)).toBe(2);
    expect(chart.indexOf('>diffusion</text>')).toBeLessThan(chart.indexOf(`>${shorten(long)}</text>`));
    expect(shorten(long)).toHaveLength(34);
    expect(chart).toContain(`<th scope="row">${long}</th><td>1</td>`);
    expect(chart).toContain(`<title>${long}: 1</title>`);
  });

  it('shows "No data yet" with no items', () => {
    expect(
      rankedBarChart({ title: 'T', description: 'D', labelHeading: 'Topic', items: [] }).value,
    ).toContain('No data yet');
  });
});

describe('escaping', () => {
  const hostile = '</text><script>alert(1)</script><a href="x" onclick=\'y\'>&';

  it('escapes hostile labels, series names and titles everywhere they appear', () => {
    const markup = [
      stackedBarChart({
        title: hostile,
        description: hostile,
        labels: [hostile],
        series: [{ name: hostile, values: [1] }],
      }),
      lineChart({
        title: hostile,
        description: hostile,
        labels: [hostile],
        series: [{ name: hostile, values: [1] }],
      }),
      rankedBarChart({
        title: hostile,
        description: hostile,
        labelHeading: hostile,
        items: [{ label: hostile, value: 1 }],
      }),
    ]
      .map((chart) => chart.value)
      .join('\n');
    expect(markup).not.toContain('<script>');
    expect(markup).not.toContain('</text><script');
    expect(markup).not.toContain("onclick='");
    expect(markup).not.toContain('"x"');
    expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(markup).toContain('aria-label="&lt;/text&gt;&lt;script&gt;');
  });
});

describe('niceStep', () => {
  it('picks 1, 2 or 5 times a power of ten, never below one', () => {
    expect([0, 3, 4, 5, 9, 10, 37, 100, 1234].map((max) => niceStep(max))).toEqual([
      1, 1, 1, 2, 5, 5, 10, 50, 500,
    ]);
  });
});
