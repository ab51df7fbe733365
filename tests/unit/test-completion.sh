#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-completion.sh PKTCLASSCTL COMPLETION: the bash completion of
# pktclassctl, run through bash-completion as an interactive shell would:
# commands, each command's options, option values; and it knows every
# command and long option that `pktclassctl --help` lists.
set -u

CTL=$(realpath -e "${1:?usage: test-completion.sh PKTCLASSCTL COMPLETION}") || exit 1
COMP=$(realpath -e "${2:?usage: test-completion.sh PKTCLASSCTL COMPLETION}") || exit 1
BC=/usr/share/bash-completion/bash_completion
if [[ ! -r $BC ]]; then
	echo "test-completion: $BC missing (apt-get install bash-completion)" >&2
	exit 1
fi
T=$(mktemp -d /tmp/test-completion.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0

# complete LINE: what TAB offers at the end of LINE, sorted, one line.
complete_line() {
	(cd "$T" && PATH="$(dirname "$CTL"):$PATH" bash --norc --noprofile -c '
		. "$1"; . "$2"
		read -ra COMP_WORDS <<<"$3"
		[[ $3 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$3 COMP_POINT=${#3}
		# the function that `complete` registered for pktclassctl
		fn=$(complete -p pktclassctl | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		"$fn" pktclassctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' bash "$BC" "$COMP" "$1")
}
expect() {  # LINE EXPECTED
	local got
	checks=$((checks + 1))
	got=$(complete_line "$1")
	got=${got% }
	[[ $got == "$2" ]] || { echo "FAIL: '$1': got [$got], expected [$2]" >&2; failures=$((failures + 1)); }
}

touch "$T/a.yaml" "$T/b.txt"
expect "pktclassctl " "capture check explain set stats status"
expect "pktclassctl st" "stats status"
expect "pktclassctl stats --o" "--openmetrics"
expect "pktclassctl stats --r" "--rules"
expect "pktclassctl status --" "--config --help --json --pin-path"
expect "pktclassctl explain --direction " "egress ingress"
expect "pktclassctl explain --proto u" "udp"
expect "pktclassctl explain --tcp-flags s" "syn"
expect "pktclassctl explain --l" "--l3 --length --live"
expect "pktclassctl -c a.yaml st" "stats status"
expect "pktclassctl check " "a.yaml"
expect "pktclassctl --config " "a.yaml"
expect "pktclassctl capture --c" "--class --config --count"
expect "pktclassctl --v" "--version"
expect "pktclassctl set " "add del flush list load show"
expect "pktclassctl set l" "list load"
expect "pktclassctl set --" "--config --help --json --pin-path"
expect "pktclassctl set list " ""
expect "pktclassctl set load bl " "a.yaml b.txt"

# Every command and long option of the usage text is known to the completion.
HELP=$("$CTL" --help)
for cmd in $(sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' <<<"$HELP"); do
	checks=$((checks + 1))
	grep -q "\[$cmd\]=" "$COMP" || { echo "FAIL: command $cmd is not completed" >&2; failures=$((failures + 1)); }
done
for opt in $(grep -o -- '--[a-z][a-z0-9-]*' <<<"$HELP" | sort -u); do
	checks=$((checks + 1))
	grep -q -- "$opt\b" "$COMP" || { echo "FAIL: option $opt is not completed" >&2; failures=$((failures + 1)); }
done

if ((failures > 0)); then
	echo "test-completion: $failures of $checks checks failed" >&2
	exit 1
fi
echo "test-completion: ok ($checks checks)"
