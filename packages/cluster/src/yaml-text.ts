import { LineCounter, parseDocument } from 'yaml';

/**
 * One YAML document a person wrote (a cluster or an app file), read strictly: duplicate keys and syntax errors
 * are reported as `label:line:col: message`; aliases that expand without bound (a "billion laughs") are refused.
 */
export function readYamlText(text: string, label: string, aliasHint = ''): { data: unknown; errors: [] } | { data?: undefined; errors: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${label}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: 50 }) ?? {}, errors: [] };
  } catch (error) {
    return { errors: [`${label}: (top level): YAML aliases expand too far (${(error as Error).message})${aliasHint}`] };
  }
}
