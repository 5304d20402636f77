#!/usr/bin/env bash
# pyxform against Voices on real XLSForm workbooks (docs/xlsform.md, "Differential test").
# Installs a pinned pyxform into a venv kept outside the clone, imports every workbook with
# both, compares (scripts/xlsform_differential.py) and ends with
# `xlsform-differential: N passed, N failed`. Exit status 1 when a workbook fails that is not
# among the known failures (xlsform/conformance/differential-failures.md; VOICES_BLESS=1
# rewrites that list). Needs Java for ODK Validate (scripts/install-deps.sh xlsform).
#
# Workbooks: the corpus in $VOICES_XLSFORM_CORPUS (default ../shared/xlsform-corpus, see its
# MANIFEST.tsv) and the four in ../shared/conformance/xlsform. Extra arguments go to cargo
# (scripts/test.sh passes its feature set so the build is shared).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/voices-target}"

venv="${VOICES_PYXFORM_VENV:-/var/tmp/voices-pyxform-venv}"
# pyxform 4.5.0 and exactly the versions of its dependencies it was tested with here.
requirements="pyxform==4.5.0 defusedxml==0.7.1 et_xmlfile==2.0.0 lark==1.3.1 openpyxl==3.1.5 xlrd==2.0.1"
stamp="$venv/.voices-requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
  echo "xlsform-differential: installing $requirements into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps $requirements
  echo "$requirements" >"$stamp"
fi

corpus="${VOICES_XLSFORM_CORPUS:-../shared/xlsform-corpus}"
files=()
if [ -d "$corpus" ]; then
  while IFS= read -r f; do files+=("$corpus/$f"); done < <(tail -n +2 "$corpus/MANIFEST.tsv" | cut -f1)
else
  echo "xlsform-differential: no corpus at $corpus (set VOICES_XLSFORM_CORPUS); only shared/conformance/xlsform"
fi
for f in ../shared/conformance/xlsform/*.xls*; do files+=("$f"); done

cargo_args=("$@")
[ ${#cargo_args[@]} -gt 0 ] || cargo_args=(-p voices-xlsform)
cargo build --quiet "${cargo_args[@]}" --example import_report
report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$CARGO_TARGET_DIR/debug/examples/import_report" "${files[@]}" >"$report"
command -v java >/dev/null || { echo "xlsform-differential: java not found (scripts/install-deps.sh xlsform)" >&2; exit 1; }
known=()
# The known failures are those of the whole corpus: without it, every workbook must pass.
[ -d "$corpus" ] && known=(--known xlsform/conformance/differential-failures.md ${VOICES_BLESS:+--bless})
"$venv/bin/python" scripts/xlsform_differential.py --voices "$report" --docs docs/xlsform.md \
  ${VOICES_DIFFERENTIAL_DETAILS:+--details "$VOICES_DIFFERENTIAL_DETAILS"} "${known[@]}" "${files[@]}"
