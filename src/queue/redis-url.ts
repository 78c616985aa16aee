/** REDIS_URL read into where Redis is (`src/config.ts` validates with it). */

export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: one node, a Redis Cluster (seed nodes) or a master found through Sentinel. */
export type RedisTarget = {
  /** REDIS_URL as given, for logs (redacted) and child processes. */
  url: string;
  nodes: RedisNode[];
  username?: string;
  password?: string;
  tls: boolean;
} & (
  | { mode: 'single' }
  | { mode: 'cluster' }
  | {
      mode: 'sentinel';
      /** The master group's name. */
      name: string;
    }
);

const redisUrlForms =
  'must be redis://host:port (one node), redis+cluster://host:port[,host:port…] (a Redis Cluster) or ' +
  'redis+sentinel://host:port[,host:port…]/<master name> (Sentinel); rediss… for TLS';

/**
 * `redis+cluster://` and `redis+sentinel://` list several `host:port`, which WHATWG URLs cannot hold:
 * read by hand. The credentials end at the last `@` (escape `@` and `/` in a password as %40, %2F).
 */
function parseMultiNodeUrl(url: string): RedisTarget | string {
  const match = /^(rediss?)\+(cluster|sentinel):\/\/(.*)$/i.exec(url);
  if (!match) return redisUrlForms;
  const [, scheme = '', kind = '', rest = ''] = match;
  const mode = kind.toLowerCase() as 'cluster' | 'sentinel';
  const at = rest.lastIndexOf('@');
  const userInfo = at === -1 ? undefined : rest.slice(0, at);
  const afterAuth = rest.slice(at + 1);
  if (/[?#]/.test(afterAuth)) return `takes no ?query or #fragment after ${scheme}+${mode}:// hosts`;
  const slash = afterAuth.indexOf('/');
  const hostList = slash === -1 ? afterAuth : afterAuth.slice(0, slash);
  const path = slash === -1 ? '' : afterAuth.slice(slash + 1);

  const defaultPort = mode === 'sentinel' ? 26379 : 6379;
  const nodes: RedisNode[] = [];
  for (const entry of hostList.split(',')) {
    const node = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(entry.trim());
    const port = node?.[3] === undefined ? defaultPort : Number(node[3]);
    if (!node || port < 1 || port > 65535) {
      return `has "${entry}" where host:port is expected (${mode} nodes: host:port[,host:port…])`;
    }
    nodes.push({ host: (node[1] ?? node[2]) as string, port });
  }

  const colon = userInfo?.indexOf(':') ?? -1;
  const username = decoded(colon === -1 ? userInfo : userInfo?.slice(0, colon));
  const password = decoded(colon === -1 ? undefined : userInfo?.slice(colon + 1));
  if (username === null || password === null) return 'has a malformed %-escape in its user or password';
  const tls = scheme.toLowerCase() === 'rediss';
  if (mode === 'cluster') {
    if (path !== '') return 'takes no /path with redis+cluster:// (a Redis Cluster has only database 0)';
    return { url, mode, nodes, username, password, tls };
  }
  const name = decoded(path);
  if (!name || path.includes('/')) {
    return 'must name the Sentinel master group: redis+sentinel://host:port[,host:port…]/<master name>';
  }
  return { url, mode, nodes, name, username, password, tls };
}

/** A %-escaped URL part: undefined when absent or empty, null when malformed. */
function decoded(part: string | undefined): string | undefined | null {
  try {
    return part ? decodeURIComponent(part) || undefined : undefined;
  } catch {
    return null;
  }
}

/** Where REDIS_URL points, or why it cannot be used (a message for the config error). */
export function parseRedisUrl(url: string): RedisTarget | string {
  if (/^rediss?:\/\//i.test(url)) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    const [username, password] = [decoded(parsed?.username), decoded(parsed?.password)];
    if (parsed?.hostname && username !== null && password !== null) {
      const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      const tls = parsed.protocol === 'rediss:';
      return {
        url,
        mode: 'single',
        nodes: [{ host, port: Number(parsed.port || 6379) }],
        username,
        password,
        tls,
      };
    }
  }
  return /^rediss?\+/i.test(url) ? parseMultiNodeUrl(url) : redisUrlForms;
}
