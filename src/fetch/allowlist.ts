/**
 * Which URLs may be fetched: LUMEN_FACE_URL_FETCH_ALLOW lists origins ("https://photos.example.com",
 * "http://10.0.0.5:8080") and host patterns ("photos.example.com", "*.example.com"; any port, http or
 * https). Nothing is fetched when the list is empty.
 */
export interface AllowRule {
  protocol?: 'http:' | 'https:';
  host: string;
  /** "*.example.com": any name below example.com (not example.com itself). */
  wildcard: boolean;
  port?: string;
}

export function parseAllowRules(text: string): { rules: AllowRule[]; errors: string[] } {
  const rules: AllowRule[] = [];
  const errors: string[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)) {
    if (entry.includes('://')) {
      let url: URL | undefined;
      try {
        url = new URL(entry);
      } catch {
        /* reported below */
      }
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.username || url.search) {
        errors.push(entry);
        continue;
      }
      rules.push({ protocol: url.protocol as 'http:' | 'https:', host: url.hostname, wildcard: false, port: url.port || undefined });
    } else if (/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry) || /^\[[0-9a-f:.]+\]$/.test(entry)) {
      const wildcard = entry.startsWith('*.');
      // IPv6 literals in the URL parser's canonical spelling, as a URL's hostname gives them.
      const host = entry.startsWith('[') ? new URL(`http://${entry}`).hostname : wildcard ? entry.slice(2) : entry;
      rules.push({ host, wildcard });
    } else {
      errors.push(entry);
    }
  }
  return { rules, errors };
}

export function isAllowed(url: URL, rules: readonly AllowRule[]): boolean {
  const host = url.hostname.toLowerCase();
  return rules.some((rule) => {
    if (rule.protocol && rule.protocol !== url.protocol) return false;
    if (rule.port !== undefined && rule.port !== url.port) return false;
    if (rule.protocol && rule.port === undefined && url.port !== '') return false;
    return rule.wildcard ? host.endsWith(`.${rule.host}`) : host === rule.host;
  });
}
