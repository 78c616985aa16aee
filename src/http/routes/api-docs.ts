import { Router } from 'express';
import type { OpenApiDocument } from '../openapi.js';
import { apiReferencePage } from '../pages/api-reference.js';

/**
 * `GET /api/openapi.json` and its reference page `GET /api/docs`, both made once from the document.
 * Public and the same for everyone: caches may keep them a little while, and any origin may read
 * the JSON (client generators and editors run in browsers).
 */
export function apiDocs(document: OpenApiDocument): Router {
  const router = Router();
  const body = JSON.stringify(document);
  const page = apiReferencePage(document);
  router.get('/api/openapi.json', (_req, res) => {
    res
      .set({ 'Cache-Control': 'public, max-age=300', 'Access-Control-Allow-Origin': '*' })
      .type('json')
      .send(body);
  });
  router.get('/api/docs', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').send(page);
  });
  return router;
}
