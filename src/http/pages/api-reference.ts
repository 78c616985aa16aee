import { type Html, html } from '../html.js';
import type { OpenApiDocument } from '../openapi.js';
import { layout } from './layout.js';

interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, unknown>[];
  parameters?: { name: string; in: string; required: boolean; description?: string; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<
    string,
    { $ref?: string; description?: string; content?: Record<string, { schema: unknown }> }
  >;
}

const pretty = (schema: unknown) => JSON.stringify(schema, null, 2);

/** The document's descriptions mark code with backticks (CommonMark); the page shows it as code. */
const prose = (text: string | undefined): Html[] =>
  (text ?? '').split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : html`${part}`));

/** A schema behind a disclosure: the page stays a readable list of routes. */
const schemaBlock = (label: string, schema: unknown) =>
  html`<details class="hint"><summary>${label}</summary><pre><code>${pretty(schema)}</code></pre></details>`;

function operationCard(document: OpenApiDocument, method: string, path: string, operation: Operation): Html {
  const responses = Object.entries(operation.responses).map(([status, response]) => {
    const resolved = response.$ref
      ? (document.components.responses[
          response.$ref.split('/').pop() as keyof typeof document.components.responses
        ] as typeof response)
      : response;
    const media = Object.entries(resolved.content ?? {});
    return html`<li><strong>${status}</strong> ${prose(resolved.description)}${media.map(
      ([type, { schema }]) =>
        type === 'application/json' ? schemaBlock(type, schema) : html` <code>${type}</code>`,
    )}</li>`;
  });
  const auth = operation.security.flatMap((entry) => Object.keys(entry));
  return html`<section class="card" id="${`${method}-${path}`}">
<h2><code>${method.toUpperCase()} ${path}</code></h2>
<p>${operation.summary}</p>
${operation.description ? html`<p class="hint">${prose(operation.description)}</p>` : ''}
${auth.length > 0 ? html`<p>Authentication: ${auth.join(' or ')}</p>` : ''}
${
  operation.parameters
    ? html`<p>Parameters:</p><ul>${operation.parameters.map(
        (parameter) =>
          html`<li><code>${parameter.name}</code> (${parameter.in}${parameter.required ? ', required' : ''}) ${prose(parameter.description)} <code>${JSON.stringify(parameter.schema)}</code></li>`,
      )}</ul>`
    : ''
}
${
  operation.requestBody
    ? html`<p>Body:</p>${Object.entries(operation.requestBody.content).map(([type, { schema }]) => schemaBlock(type, schema))}`
    : ''
}
<p>Answers:</p><ul>${responses}</ul>
</section>`;
}

/** The document as a page, rendered on the server: no script, nothing from another site. */
export function apiReferencePage(document: OpenApiDocument): string {
  const byTag = document.tags.map((tag) => ({
    ...tag,
    operations: Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, Operation>)
        .filter(([, operation]) => operation.tags.includes(tag.name))
        .map(([method, operation]) => operationCard(document, method, path, operation)),
    ),
  }));
  const schemes = Object.entries(document.components.securitySchemes);
  return layout({
    title: 'API reference',
    body: html`<section class="card">
<h1>paperboy API reference</h1>
<p class="lead">${prose(document.info.description)}</p>
<p>The machine-readable document: <a href="/api/openapi.json"><code>/api/openapi.json</code></a> (OpenAPI ${document.openapi}, version ${document.info.version}).
Generate a typed client with <code>npx openapi-typescript &lt;this server&gt;/api/openapi.json -o paperboy.d.ts</code>.</p>
<p>Authentication:</p><ul>${schemes.map(([name, scheme]) => html`<li><code>${name}</code>: ${prose(scheme.description)}</li>`)}</ul>
<p>Error bodies (every JSON error): ${schemaBlock('ErrorBody', document.components.schemas.ErrorBody)}</p>
</section>
${byTag.map(
  (tag) => html`<h2 id="${tag.name}">${tag.name}</h2><p class="hint">${tag.description}</p>${tag.operations}`,
)}`,
  });
}
