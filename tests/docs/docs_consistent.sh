#!/usr/bin/env bash
# Every FAXBRIDGE_* variable the code reads is in docs/configuration.md, and every
# error code of the table in error.hpp is in docs/errors.md.
set -euo pipefail
root=$1
status=0
for v in $(grep -rhoE '"FAXBRIDGE_[A-Z0-9_]+"' "$root"/libs "$root"/services "$root"/tools | tr -d '"' | sort -u); do
  grep -q "\`$v\`" "$root/docs/configuration.md" || { echo "docs/configuration.md does not document $v"; status=1; }
done
for c in $(grep -oE '^ *X\([a-z0-9_]+, "[a-z0-9_.]+"' "$root/libs/core/include/faxbridge/core/error.hpp" | sed -E 's/.*"(.*)"/\1/'); do
  grep -q "| \`$c\` |" "$root/docs/errors.md" || { echo "docs/errors.md does not list $c"; status=1; }
done
exit $status
