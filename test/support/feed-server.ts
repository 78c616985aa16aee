import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/feeds/${name}`, import.meta.url), 'utf8');

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/**
 * The internet, replaced: a local HTTP server that answers feed requests with recorded fixtures (or
 * with whatever fault a test scripts). Every request is logged for assertions.
 */
export async function startFeedServer(route: Route) {
  const requests: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url);
    route(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const send = (
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, headers);
  res.end(body);
};

/** arXiv's API with one recorded page of 25 of its newest entries, then nothing. */
export const recordedArxivPage: Route = (_req, res, url) =>
  send(
    res,
    200,
    url.searchParams.get('start') === '0'
      ? fixture('arxiv-api-cs.AI-LG-CL-newest-2026-08-02.atom.xml')
      : '<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
  );

// Older papers than the sample feed paperboy has (examples/papers.json): what readers like to cite.
const recorded = fixture('arxiv-api-all-testing-100-2026-04-12.atom.xml');
const [feedHead = '', ...recordedEntries] = recorded.split(/(?=<entry>)/);

/** arXiv's answer to `id_list`, from a recorded feed: the entries it has of the ids asked for. */
function answerIdList(ids: readonly string[]) {
  const entries = recordedEntries
    .map((entry) => entry.replace(/<\/feed>\s*$/, ''))
    .filter((entry) => ids.some((id) => entry.includes(`<id>http://arxiv.org/abs/${id}v`)));
  return `${feedHead}${entries.join('')}</feed>\n`;
}

/** A stand-in for arXiv's API that answers `id_list` queries from the recorded feed. */
export function startArxivIdListServer() {
  return startFeedServer((_req, res, url) => {
    const ids = (url.searchParams.get('id_list') ?? '').split(',').filter(Boolean);
    send(res, 200, answerIdList(ids), { 'content-type': 'application/atom+xml' });
  });
}
