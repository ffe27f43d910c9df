# bash completion for rt(8), the OCI container runtime.
#
#   source contrib/completions/rt.bash
# or install it as /usr/share/bash-completion/completions/rt.
#
# Completes the global options, the commands, each command's options, container ids (from
# `rt list -q`, honouring --root), signal names for kill, and paths for the options that take one.

_rt_container_ids() {
    # $1: the --root given on the command line, if any.
    local -a root_opt=()
    [ -n "$1" ] && root_opt=(--root "$1")
    "${COMP_WORDS[0]}" "${root_opt[@]}" list -q 2>/dev/null
}

# COMPREPLY from compgen's output, one candidate per line (paths may hold spaces).
_rt_reply() {
    mapfile -t COMPREPLY < <(compgen "$@")
}

# Paths: let readline quote them and append / to directories.
_rt_reply_paths() {
    compopt -o filenames 2>/dev/null
    _rt_reply "$@"
}

_rt() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}

    local global_opts="--root --log --log-format --debug --version --help -h"
    local commands="spec create start state kill delete run exec list update pause resume ps events"

    # Find the command and the --root value among the words before the cursor.
    local i word command="" root="" command_index=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [ -z "$command" ]; then
            case $word in
                --root) root=${COMP_WORDS[i + 1]}; ((i++)) ;;
                --root=*) root=${word#--root=} ;;
                --log | --log-format) ((i++)) ;;
                -*) ;;
                *) command=$word; command_index=$i ;;
            esac
        fi
    done

    if [ -z "$command" ]; then
        case $prev in
            --root) _rt_reply_paths -d -- "$cur"; return ;;
            --log) _rt_reply_paths -f -- "$cur"; return ;;
            --log-format) _rt_reply -W "text json" -- "$cur"; return ;;
        esac
        if [[ $cur == -* ]]; then
            _rt_reply -W "$global_opts" -- "$cur"
        else
            _rt_reply -W "$commands" -- "$cur"
        fi
        return
    fi

    # Options of the command, and which of them take a value.
    local opts="" dir_opts="" file_opts="" other_value_opts=""
    case $command in
        spec)
            # After -- (or --args) come the container's command and arguments: nothing to complete.
            for ((i = command_index + 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in -- | --args) COMPREPLY=(); return ;; esac
            done
            opts="--bundle -b --rootless --from-lxc --rootfs --args --env --cwd --user --hostname --bind
                  --tmpfs --readonly --memory --pids --cpus --network --terminal --no-terminal --help"
            dir_opts="--bundle -b --rootfs"; file_opts="--from-lxc --bind"
            other_value_opts="--env --cwd --user --hostname --tmpfs --memory --pids --cpus --network" ;;
        create)
            opts="--bundle -b --console-socket --pid-file --no-pivot --no-new-keyring --preserve-fds --help"
            dir_opts="--bundle -b"; file_opts="--console-socket --pid-file"; other_value_opts="--preserve-fds" ;;
        run)
            opts="--bundle -b --console-socket --detach -d --keep --pid-file --no-pivot --no-new-keyring
                  --preserve-fds --help"
            dir_opts="--bundle -b"; file_opts="--console-socket --pid-file"; other_value_opts="--preserve-fds" ;;
        exec)
            opts="--process -p --tty -t --detach -d --pid-file --console-socket --cwd --env -e --user -u
                  --additional-gids -g --cap -c --no-new-privs --apparmor --process-label --preserve-fds
                  --cgroup --help"
            file_opts="--process -p --pid-file --console-socket"
            other_value_opts="--cwd --env -e --user -u --additional-gids -g --cap -c --apparmor --process-label
                              --preserve-fds --cgroup" ;;
        kill) opts="--all -a --help" ;;
        delete) opts="--force -f --help" ;;
        list)
            opts="--format -f --quiet -q --help"
            other_value_opts="--format -f" ;;
        start | state | pause | resume) opts="--help" ;;
        ps)
            opts="--format -f --help"
            other_value_opts="--format -f" ;;
        events)
            opts="--stats --interval --help"
            other_value_opts="--interval" ;;
        update)
            opts="--resources -r --blkio-weight --cpu-period --cpu-quota --cpu-share --cpu-shares --cpu-rt-period
                  --cpu-rt-runtime --cpu-idle --cpuset-cpus --cpuset-mems --memory --memory-reservation --memory-swap
                  --kernel-memory --kernel-memory-tcp --pids-limit --help"
            file_opts="--resources -r"
            other_value_opts="--blkio-weight --cpu-period --cpu-quota --cpu-share --cpu-shares --cpu-rt-period
                  --cpu-rt-runtime --cpu-idle --cpuset-cpus --cpuset-mems --memory --memory-reservation --memory-swap
                  --kernel-memory --kernel-memory-tcp --pids-limit" ;;
        *) return ;;
    esac

    local o
    for o in $dir_opts; do
        [ "$prev" = "$o" ] && { _rt_reply_paths -d -- "$cur"; return; }
    done
    for o in $file_opts; do
        [ "$prev" = "$o" ] && { _rt_reply_paths -f -- "$cur"; return; }
    done
    for o in $other_value_opts; do
        if [ "$prev" = "$o" ]; then
            case $command in
                list | ps) _rt_reply -W "table json" -- "$cur" ;;
                spec) [ "$o" = --network ] && _rt_reply -W "none host bridge bridge=" -- "$cur" ;;
            esac
            return
        fi
    done

    if [[ $cur == -* ]]; then
        _rt_reply -W "$opts" -- "$cur"
        return
    fi

    # Positional arguments after the options: how many came before the cursor.
    local npos=0 skip=0
    for ((i = command_index + 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if ((skip)); then skip=0; continue; fi
        case " $dir_opts $file_opts $other_value_opts " in
            *" $word "*) skip=1; continue ;;
        esac
        [[ $word == -* ]] || ((npos++))
    done

    case $command in
        start | state | delete | kill | exec | update | pause | resume | ps | events)
            if ((npos == 0)); then
                _rt_reply -W "$(_rt_container_ids "$root")" -- "$cur"
            elif [ "$command" = kill ] && ((npos == 1)); then
                local signals
                signals=$(compgen -A signal | grep '^SIG' | grep -v '^SIGRT')
                _rt_reply -W "$signals ${signals//SIG/}" -- "$cur"
            fi ;;
        create | run)
            # A new id: nothing to complete.
            ;;
    esac
}

complete -F _rt rt
