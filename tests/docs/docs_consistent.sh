#!/usr/bin/env bash
# Every FAXBRIDGE_* variable the code reads is in docs/configuration.md, every error
# code of the table in error.hpp is in docs/errors.md, and every dotted code the sources
# write as a literal where a code goes (an error_code column or field, a "code" key, a
# name looked up with code_from_name) is a row of that table. Other dotted strings (log
# events, setting keys, stage names) are not codes and are not checked.
set -euo pipefail
root=$1
status=0
for v in $(grep -rhoE '"FAXBRIDGE_[A-Z0-9_]+"' "$root"/libs "$root"/services "$root"/tools | tr -d '"' | sort -u); do
  grep -q "\`$v\`" "$root/docs/configuration.md" || { echo "docs/configuration.md does not document $v"; status=1; }
done
for c in $(grep -oE '^ *X\([a-z0-9_]+, "[a-z0-9_.]+"' "$root/libs/core/include/faxbridge/core/error.hpp" | sed -E 's/.*"(.*)"/\1/'); do
  grep -q "| \`$c\` |" "$root/docs/errors.md" || { echo "docs/errors.md does not list $c"; status=1; }
done
table=$(grep -oE '^ *X\([a-z0-9_]+, "[a-z0-9_.]+"' "$root/libs/core/include/faxbridge/core/error.hpp" | sed -E 's/.*"(.*)"/\1/')
used=$(grep -rhoE "(error_code|\"code\"|code_from_name\()[^\"'\n]{0,6}[\"'][a-z0-9_]+\.[a-z0-9_.]+[\"']" \
         --include='*.cpp' --include='*.hpp' --include='*.sql' "$root"/libs "$root"/services "$root"/tools |
       sed -E "s/.*[\"']([a-z0-9_]+\.[a-z0-9_.]+)[\"']\$/\1/" | sort -u)
for c in $used; do
  grep -qxF "$c" <<<"$table" || { echo "the sources use the error code $c, which error.hpp's table lacks"; status=1; }
done
exit $status
