# Sourced by scripts/verbs-tests.sh and scripts/verbs-2node.sh (in the guest): one test case
# per call, counted in `passed` and `fails`.
#
#   case_ NAME EXPECT(ok|fail) GREP-PATTERN -- COMMAND...
#
# The case passes when COMMAND's exit status is as expected (fail: non-zero and not a
# timeout's 124) and, if GREP-PATTERN is not empty, its output matches it (grep -E). With
# VERBS_CASES_ONLY=REGEX, cases whose name does not match are skipped.
fails=()
passed=0
log=$(mktemp)

case_() {
    local name=$1 expect=$2 pat=$3; shift 4
    if [ -n "${VERBS_CASES_ONLY:-}" ] && ! [[ $name =~ $VERBS_CASES_ONLY ]]; then return; fi
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local good=1
    if [ "$expect" = ok ] && [ $rc -ne 0 ]; then good=0; fi
    if [ "$expect" = fail ] && { [ $rc -eq 0 ] || [ $rc -eq 124 ]; }; then good=0; fi
    if [ -n "$pat" ] && ! grep -qE "$pat" "$log"; then good=0; fi
    if [ $good = 1 ]; then
        echo "PASS $name (rc $rc, $((SECONDS - t0)) s)"
        passed=$((passed + 1))
    else
        echo "FAIL $name (rc $rc, $((SECONDS - t0)) s); output:"
        sed 's/^/    /' "$log" | tail -40
        fails+=("$name")
    fi
}
