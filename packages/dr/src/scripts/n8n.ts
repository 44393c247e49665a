/**
 * The shell scripts the n8n image runs: n8n's own export and import commands, with the database and the
 * encryption key of the instance. Credentials stay encrypted with the n8n key in the export (never
 * --decrypted), so the key from SOPS is what makes them usable after a restore.
 */

const HEADER = (what: string) => `#!/bin/sh
# groundwork dr: ${what}
# Rendered by packages/dr/src/scripts/n8n.ts; the database and N8N_ENCRYPTION_KEY come from the environment.
set -eu
work="\${DR_WORK:-/work}"
folder="$work/n8n"
mkdir -p "$folder"
`;

/** An instance without workflows or credentials is a valid backup: n8n says "No … found" and exits 1. */
export const n8nExport = `${HEADER('export every workflow and credential with n8n\'s own commands.')}
# export_all <command> <what> <file>
export_all() {
  if n8n "export:$1" --all --output="$folder/$3" > "$folder/$3.log" 2>&1; then
    echo "exported $2"
  elif grep -q "No $2 found" "$folder/$3.log"; then
    echo '[]' > "$folder/$3"
    echo "no $2 in this instance"
  else
    cat "$folder/$3.log" >&2
    return 1
  fi
}
export_all workflow workflows workflows.json
export_all credentials credentials credentials.json
`;

export const n8nImport = `${HEADER('import workflows and credentials exported by the n8n-export job.')}
if [ "$(tr -d ' \\n' < "$folder/credentials.json")" != '[]' ]; then
  n8n import:credentials --input="$folder/credentials.json"
fi
if [ "$(tr -d ' \\n' < "$folder/workflows.json")" != '[]' ]; then
  n8n import:workflow --input="$folder/workflows.json"
fi
echo "import complete"
`;
