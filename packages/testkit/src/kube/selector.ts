/**
 * Label selectors as the API server parses them: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
 * `a` (exists) and `!a` (does not exist), comma-separated.
 */
export type LabelPredicate = (labels: Record<string, string>) => boolean;

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}

export function parseLabelSelector(selector: string | undefined): LabelPredicate {
  if (!selector) return () => true;
  const predicates = splitTerms(selector).map((term): LabelPredicate => {
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const values = new Set(m[3]!.split(',').map((v) => v.trim()));
      const key = m[1]!;
      return m[2] === 'in' ? (l) => key in l && values.has(l[key]!) : (l) => !(key in l) || !values.has(l[key]!);
    }
    m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    if (term.startsWith('!')) return (l) => !(term.slice(1) in l);
    if (/^[^\s!=()]+$/.test(term)) return (l) => term in l;
    throw new Error(`unable to parse requirement: ${term}`);
  });
  return (labels) => predicates.every((p) => p(labels));
}
