# SPDX-License-Identifier: GPL-2.0-only
# bash completion for pktclassctl(8): commands, their options, and the values
# that options take (config files, interfaces, hooks, protocols, classes and
# sets of the running daemon).  Installed as bash-completion/completions/pktclassctl.

_pktclassctl_classes()
{
	pktclassctl stats --json 2>/dev/null |
		sed -n 's/^ *"name": "\([A-Za-z0-9_.-]*\)".*/\1/p'
}

_pktclassctl_sets()
{
	pktclassctl set list --json 2>/dev/null |
		sed -n 's/^ *"name": "\([A-Za-z0-9_.-]*\)".*/\1/p'
}

_pktclassctl()
{
	local cur prev words cword
	_init_completion || return

	local common="--config --pin-path --json --help"
	local -A opts=(
		[status]="$common"
		[stats]="$common --rules --watch --openmetrics"
		[check]="$common"
		[explain]="$common --live --iface --direction --l3 --proto --src --dst --src-port
			--dst-port --vlan --dscp --length --tcp-flags"
		[capture]="--config --pin-path --json --help --class --iface --count --write"
		[set]="$common"
	)
	local cmd="" i
	local -a args=() # the words after the command that are not options
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-c | --config | --pin-path) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${words[i]}; else args+=("${words[i]}"); fi ;;
		esac
	done

	case $prev in
	-c)
		[[ $cmd == capture ]] && return # capture: -c is the count
		_filedir '@(yaml|yml)'
		return
		;;
	--config)
		_filedir '@(yaml|yml)'
		return
		;;
	--pin-path)
		_filedir -d
		return
		;;
	--write | -w)
		_filedir pcapng
		return
		;;
	--iface)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	--direction)
		COMPREPLY=($(compgen -W "ingress egress" -- "$cur"))
		return
		;;
	--l3)
		COMPREPLY=($(compgen -W "ipv4 ipv6 arp" -- "$cur"))
		return
		;;
	--proto)
		COMPREPLY=($(compgen -W "tcp udp icmp icmpv6 sctp gre esp ah" -- "$cur"))
		return
		;;
	--tcp-flags)
		COMPREPLY=($(compgen -W "syn ack fin rst psh urg ece cwr" -- "$cur"))
		return
		;;
	--class)
		COMPREPLY=($(compgen -W "$(_pktclassctl_classes)" -- "$cur"))
		return
		;;
	--watch | --src | --dst | --src-port | --dst-port | --vlan | --dscp | --length | --count)
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--config --pin-path --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "${!opts[*]}" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${opts[$cmd]:-}" -- "$cur"))
	elif [[ $cmd == check ]]; then
		_filedir '@(yaml|yml)'
	elif [[ $cmd == set ]]; then
		# set SUBCOMMAND [NAME [ELEMENT... | FILE]]
		if ((${#args[@]} == 0)); then
			COMPREPLY=($(compgen -W "list show add del load flush" -- "$cur"))
		elif ((${#args[@]} == 1)) && [[ ${args[0]} != list ]]; then
			COMPREPLY=($(compgen -W "$(_pktclassctl_sets)" -- "$cur"))
		elif ((${#args[@]} == 2)) && [[ ${args[0]} == load ]]; then
			_filedir
		fi
	fi
} &&
	complete -F _pktclassctl pktclassctl
