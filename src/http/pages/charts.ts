import { type Html, html } from '../html.js';

/**
 * Server-rendered charts: pure functions from numbers to inline SVG, drawn in a fixed viewBox that the
 * stylesheet scales to the page (and scrolls on a phone). Colours come from classes (`tone-*`), so the
 * same markup follows the light and dark schemes. Each chart is an `img` with its title as label, and
 * carries its numbers in a table under a `<details>`: the chart for the eye, the table for everyone.
 */

/** Colour families the stylesheet defines for light and dark. */
export const tones = ['blue', 'green', 'red', 'grey', 'amber', 'purple'] as const;
export type Tone = (typeof tones)[number];

export interface Series {
  name: string;
  values: readonly number[];
  tone?: Tone;
}

export interface TimeChart {
  title: string;
  /** One sentence on what is counted and how: read by screen readers, shown under the title. */
  description: string;
  /** One label per column (e.g. `2026-11-28`), oldest first. */
  labels: readonly string[];
  series: readonly Series[];
  /** The text under an axis tick; the table shows the full label. */
  tick?: (label: string) => string;
}

export interface Ranked {
  title: string;
  description: string;
  items: readonly { label: string; value: number }[];
  /** The heading of the label column in the numbers table. */
  labelHeading: string;
}

const width = 640;
const height = 240;
// The scale is written on both sides: a phone shows a chart scrolled to its newest (right) end.
const margin = { top: 12, right: 44, bottom: 28, left: 44 };
const plotWidth = width - margin.left - margin.right;
const plotHeight = height - margin.top - margin.bottom;
const plotBottom = margin.top + plotHeight;
const maxTicks = 8;

const number = new Intl.NumberFormat('en');
const fmt = (value: number) => number.format(value);
/** Coordinates to a tenth of a pixel: shorter markup, no visible difference. */
const at = (value: number) => Math.round(value * 10) / 10;

const toneOf = (series: Series, index: number): Tone => series.tone ?? tones[index % tones.length] ?? 'blue';

/** A round step (1, 2 or 5 times a power of ten, at least 1: counts are whole) giving about four gridlines. */
export function niceStep(max: number, steps = 4): number {
  if (max <= steps) return 1;
  const rough = max / steps;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= rough) ?? 10 * power;
}

function yAxis(max: number) {
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (value: number) => plotBottom - (value / top) * plotHeight;
  const ticks: number[] = [];
  for (let value = 0; value <= top; value += step) ticks.push(value);
  const grid = ticks.map(
    (value) =>
      html`<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${at(y(value))}" y2="${at(y(value))}"/><text class="tick" x="${margin.left - 6}" y="${at(y(value)) + 4}" text-anchor="end">${fmt(value)}</text><text class="tick" x="${width - margin.right + 6}" y="${at(y(value)) + 4}">${fmt(value)}</text>`,
  );
  return { y, grid };
}

/** Tick labels under at most `maxTicks` columns, always including the newest. */
function xAxis(labels: readonly string[], x: (index: number) => number, tick: (label: string) => string) {
  const every = Math.max(1, Math.ceil(labels.length / maxTicks));
  return labels.map((label, index) =>
    (labels.length - 1 - index) % every === 0
      ? html`<text class="tick" x="${at(x(index))}" y="${plotBottom + 18}" text-anchor="middle">${tick(label)}</text>`
      : '',
  );
}

const isEmpty = (chart: TimeChart) =>
  chart.labels.length === 0 || chart.series.every((series) => series.values.every((value) => value === 0));

const emptyChart = (title: string, description: string) =>
  html`<figure class="chart"><figcaption><strong>${title}</strong> <span class="muted">${description}</span></figcaption><p class="chart-empty">No data yet</p></figure>`;

function legend(series: readonly Series[]) {
  return html`<ul class="legend">${series.map(
    (entry, index) =>
      html`<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect class="tone-${toneOf(entry, index)}" width="10" height="10" rx="2"/></svg>${entry.name}</li>`,
  )}</ul>`;
}

function numbersTable(chart: TimeChart, total: boolean) {
  return html`<details class="numbers"><summary>Numbers</summary><div class="table-scroll"><table>
<thead><tr><th scope="col">Day</th>${chart.series.map((series) => html`<th scope="col">${series.name}</th>`)}${total ? html`<th scope="col">Total</th>` : ''}</tr></thead>
<tbody>${chart.labels.map((label, index) => {
    const values = chart.series.map((series) => series.values[index] ?? 0);
    return html`<tr><th scope="row">${label}</th>${values.map((value) => html`<td>${fmt(value)}</td>`)}${total ? html`<td>${fmt(values.reduce((sum, value) => sum + value, 0))}</td>` : ''}</tr>`;
  })}</tbody></table></div></details>`;
}

function figure(chart: Pick<TimeChart, 'title' | 'description'>, svg: Html, after: Html) {
  return html`<figure class="chart"><figcaption><strong>${chart.title}</strong> <span class="muted">${chart.description}</span></figcaption>
<div class="chart-scroll"><svg class="chart-svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${chart.title}"><title>${chart.title}</title><desc>${chart.description}</desc>${svg}</svg></div>
${after}</figure>`;
}

/** Columns of stacked bars, one per label, the series stacked bottom-up in order; zero segments are left out. */
export function stackedBarChart(chart: TimeChart): Html {
  if (isEmpty(chart)) return emptyChart(chart.title, chart.description);
  const tick = chart.tick ?? ((label: string) => label);
  const totals = chart.labels.map((_, index) =>
    chart.series.reduce((sum, series) => sum + (series.values[index] ?? 0), 0),
  );
  const { y, grid } = yAxis(Math.max(...totals));
  const slot = plotWidth / chart.labels.length;
  const barWidth = Math.max(1, slot * 0.7);
  const x = (index: number) => margin.left + slot * (index + 0.5);
  const bars = chart.labels.map((label, index) => {
    let base = 0;
    return chart.series.map((series, seriesIndex) => {
      const value = series.values[index] ?? 0;
      if (value <= 0) return '';
      const top = y(base + value);
      const bottom = y(base);
      base += value;
      return html`<rect class="bar tone-${toneOf(series, seriesIndex)}" x="${at(x(index) - barWidth / 2)}" y="${at(top)}" width="${at(barWidth)}" height="${at(bottom - top)}"><title>${label} · ${series.name}: ${fmt(value)}</title></rect>`;
    });
  });
  const svg = html`${grid}<line class="axis" x1="${margin.left}" x2="${width - margin.right}" y1="${plotBottom}" y2="${plotBottom}"/>${bars}${xAxis(chart.labels, x, tick)}`;
  return figure(chart, svg, html`${legend(chart.series)}${numbersTable(chart, true)}`);
}

/** One line per series over the labels, with a point (and its number as a tooltip) at each. */
export function lineChart(chart: TimeChart): Html {
  if (isEmpty(chart)) return emptyChart(chart.title, chart.description);
  const tick = chart.tick ?? ((label: string) => label);
  const { y, grid } = yAxis(Math.max(...chart.series.flatMap((series) => series.values)));
  // Inset from both ends, so the first and last points and their tick labels stay inside the frame.
  const inset = 16;
  const step = chart.labels.length > 1 ? (plotWidth - 2 * inset) / (chart.labels.length - 1) : 0;
  const x = (index: number) =>
    chart.labels.length > 1 ? margin.left + inset + step * index : margin.left + plotWidth / 2;
  const lines = chart.series.map((series, seriesIndex) => {
    const tone = toneOf(series, seriesIndex);
    const points = chart.labels.map((_, index) => `${at(x(index))},${at(y(series.values[index] ?? 0))}`);
    return html`<polyline class="line tone-${tone}" points="${points.join(' ')}"/>${chart.labels.map(
      (label, index) =>
        html`<circle class="point tone-${tone}" cx="${at(x(index))}" cy="${at(y(series.values[index] ?? 0))}" r="2.5"><title>${label} · ${series.name}: ${fmt(series.values[index] ?? 0)}</title></circle>`,
    )}`;
  });
  const svg = html`${grid}<line class="axis" x1="${margin.left}" x2="${width - margin.right}" y1="${plotBottom}" y2="${plotBottom}"/>${lines}${xAxis(chart.labels, x, tick)}`;
  return figure(chart, svg, html`${legend(chart.series)}${numbersTable(chart, false)}`);
}

const rankedRow = 26;
const rankedLabelWidth = 250;
const rankedLabelChars = 34;

/** Shortens a label for the chart (the tooltip and the table keep it whole). */
export const shorten = (text: string, max = rankedLabelChars) =>
  text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;

/** Horizontal bars, one per item in the given order (best first), labelled on the left. */
export function rankedBarChart(chart: Ranked): Html {
  if (chart.items.length === 0 || chart.items.every((item) => item.value === 0))
    return emptyChart(chart.title, chart.description);
  const max = Math.max(...chart.items.map((item) => item.value));
  const barSpace = width - rankedLabelWidth - 56;
  const chartHeight = chart.items.length * rankedRow + 8;
  const rows = chart.items.map((item, index) => {
    const top = 4 + index * rankedRow;
    const barWidth = Math.max(2, (item.value / max) * barSpace);
    return html`<g><title>${item.label}: ${fmt(item.value)}</title><text class="label" x="${rankedLabelWidth - 8}" y="${top + 17}" text-anchor="end">${shorten(item.label)}</text><rect class="bar tone-blue" x="${rankedLabelWidth}" y="${top + 4}" width="${at(barWidth)}" height="${rankedRow - 8}" rx="2"/><text class="value" x="${at(rankedLabelWidth + barWidth + 6)}" y="${top + 17}">${fmt(item.value)}</text></g>`;
  });
  return html`<figure class="chart"><figcaption><strong>${chart.title}</strong> <span class="muted">${chart.description}</span></figcaption>
<div class="chart-scroll"><svg class="chart-svg" viewBox="0 0 ${width} ${chartHeight}" role="img" aria-label="${chart.title}"><title>${chart.title}</title><desc>${chart.description}</desc>${rows}</svg></div>
<details class="numbers"><summary>Numbers</summary><div class="table-scroll"><table><thead><tr><th scope="col">${chart.labelHeading}</th><th scope="col">Count</th></tr></thead>
<tbody>${chart.items.map((item) => html`<tr><th scope="row">${item.label}</th><td>${fmt(item.value)}</td></tr>`)}</tbody></table></div></details></figure>`;
}
