import { delivery } from './delivery.js';
import { feedback } from './feedback.js';
import type { Benchmark } from './harness.js';
import { http } from './http.js';
import { ingest } from './ingest.js';
import { matching } from './matching.js';
import { preview } from './preview.js';
import { render } from './render.js';
import { scaleOut } from './scale-out.js';

/** Every benchmark `npm run bench` knows, in the order it runs them. Add new ones here. */
export const benchmarks: readonly Benchmark[] = [
  matching,
  render,
  ingest,
  delivery,
  http,
  preview,
  scaleOut,
  feedback,
];
