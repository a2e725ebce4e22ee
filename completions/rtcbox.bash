#!/bin/bash

__rtcbox_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__rtcbox_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__rtcbox_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__rtcbox_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_rtcbox() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __rtcbox_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    serve|token|login|publish|play|record|relay|mix|preview|devices|load-test|install-links|help)
        # Offer subcommand argument completions
        "_rtcbox_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'serve token login publish play record relay mix preview devices load-test install-links help' -- "${cur}"))
        ;;
    esac
}

_rtcbox_serve() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=(--web-origin)
    non_repeating_options=(--config --listen --threads --realtime-priority --slow-consumer-timeout --token-warning --metrics --web --udp --udp-advertise --tls-cert --tls-key --events --log-level)
    __rtcbox_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--listen')
        return
        ;;
    '--threads')
        return
        ;;
    '--realtime-priority')
        return
        ;;
    '--slow-consumer-timeout')
        return
        ;;
    '--token-warning')
        return
        ;;
    '--metrics')
        return
        ;;
    '--web')
        return
        ;;
    '--web-origin')
        return
        ;;
    '--udp')
        return
        ;;
    '--udp-advertise')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_token() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--app-id --secret --user --room --privilege --streams --expire --decode)
    __rtcbox_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--app-id')
        return
        ;;
    '--secret')
        return
        ;;
    '--user')
        return
        ;;
    '--room')
        return
        ;;
    '--privilege')
        return
        ;;
    '--streams')
        return
        ;;
    '--expire')
        return
        ;;
    '--decode')
        return
        ;;
    esac
}

_rtcbox_login() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(--user-status --stdin-commands --sound-levels --once -q --quiet --version -h --help)
    repeating_options=(--send-message --set-extra-info)
    non_repeating_options=(--server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --duration --events --log-level)
    __rtcbox_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--send-message')
        return
        ;;
    '--set-extra-info')
        return
        ;;
    '--duration')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_publish() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(--copy --no-video --no-audio --realtime --no-realtime --stdin-commands --sei-stdin -q --quiet --version -h --help)
    repeating_options=(-i --input -f --format-in --video-size --framerate --pixel-format --sample-rate --channels --input-option)
    non_repeating_options=(--whip --bearer --ca-file --size --fps --video-bitrate --gop --preset --audio-bitrate --scenario --duration --extra-info --traffic-control --min-video-bitrate --sound-level-interval --layers --server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --events --log-level)
    __rtcbox_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--whip')
        return
        ;;
    '--bearer')
        return
        ;;
    '--ca-file')
        return
        ;;
    '-i'|'--input')
        return
        ;;
    '-f'|'--format-in')
        return
        ;;
    '--video-size')
        return
        ;;
    '--framerate')
        return
        ;;
    '--pixel-format')
        return
        ;;
    '--sample-rate')
        return
        ;;
    '--channels')
        return
        ;;
    '--input-option')
        return
        ;;
    '--size')
        return
        ;;
    '--fps')
        return
        ;;
    '--video-bitrate')
        return
        ;;
    '--gop')
        return
        ;;
    '--preset')
        return
        ;;
    '--audio-bitrate')
        return
        ;;
    '--scenario')
        return
        ;;
    '--duration')
        return
        ;;
    '--extra-info')
        return
        ;;
    '--traffic-control')
        __rtcbox_add_completions -W 'on'$'\n''off'
        return
        ;;
    '--min-video-bitrate')
        return
        ;;
    '--sound-level-interval')
        return
        ;;
    '--layers')
        __rtcbox_add_completions -W '2'$'\n''720p,360p'$'\n''1080p,540p'
        return
        ;;
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_play() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(--keep-waiting --decode --window --sei-only --video-only --audio-only -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--whep --bearer --ca-file -o --output --format --duration --frames --window-device --audio-codec --layer --push-timeout --server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --events --log-level)
    __rtcbox_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--whep')
        return
        ;;
    '--bearer')
        return
        ;;
    '--ca-file')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--format')
        return
        ;;
    '--duration')
        return
        ;;
    '--frames')
        return
        ;;
    '--window-device')
        return
        ;;
    '--audio-codec')
        return
        ;;
    '--layer')
        return
        ;;
    '--push-timeout')
        return
        ;;
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_record() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--streams --dir --format --segment --duration --audio-codec --server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --events --log-level)
    __rtcbox_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--streams')
        return
        ;;
    '--dir')
        return
        ;;
    '--format')
        return
        ;;
    '--segment')
        return
        ;;
    '--duration')
        return
        ;;
    '--audio-codec')
        return
        ;;
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_relay() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--to --streams --format --duration --push-timeout --server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --events --log-level)
    __rtcbox_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--to')
        return
        ;;
    '--streams')
        return
        ;;
    '--format')
        return
        ;;
    '--duration')
        return
        ;;
    '--push-timeout')
        return
        ;;
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_mix() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=(--region --volume)
    non_repeating_options=(--output-stream -o --output --format --streams --layout --size --fps --background --hold --video-bitrate --gop --preset --audio-bitrate --traffic-control --duration --frames --push-timeout --server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --events --log-level)
    __rtcbox_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--output-stream')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--format')
        return
        ;;
    '--streams')
        return
        ;;
    '--layout')
        return
        ;;
    '--region')
        return
        ;;
    '--size')
        return
        ;;
    '--fps')
        return
        ;;
    '--background')
        return
        ;;
    '--volume')
        return
        ;;
    '--hold')
        return
        ;;
    '--video-bitrate')
        return
        ;;
    '--gop')
        return
        ;;
    '--preset')
        return
        ;;
    '--audio-bitrate')
        return
        ;;
    '--traffic-control')
        __rtcbox_add_completions -W 'on'$'\n''off'
        return
        ;;
    '--duration')
        return
        ;;
    '--frames')
        return
        ;;
    '--push-timeout')
        return
        ;;
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_preview() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(--copy --no-video --no-audio --realtime --no-realtime --window -q --quiet --version -h --help)
    repeating_options=(-i --input -f --format-in --video-size --framerate --pixel-format --sample-rate --channels --input-option)
    non_repeating_options=(--size --fps --video-bitrate --gop --preset --audio-bitrate --scenario --duration -o --output --format --window-device --title --events --log-level)
    __rtcbox_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-i'|'--input')
        return
        ;;
    '-f'|'--format-in')
        return
        ;;
    '--video-size')
        return
        ;;
    '--framerate')
        return
        ;;
    '--pixel-format')
        return
        ;;
    '--sample-rate')
        return
        ;;
    '--channels')
        return
        ;;
    '--input-option')
        return
        ;;
    '--size')
        return
        ;;
    '--fps')
        return
        ;;
    '--video-bitrate')
        return
        ;;
    '--gop')
        return
        ;;
    '--preset')
        return
        ;;
    '--audio-bitrate')
        return
        ;;
    '--scenario')
        return
        ;;
    '--duration')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--format')
        return
        ;;
    '--window-device')
        return
        ;;
    '--title')
        return
        ;;
    '--events')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_devices() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--format)
    __rtcbox_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--format')
        return
        ;;
    esac
}

_rtcbox_load-test() {
    repeating_flags=(-v --verbose)
    non_repeating_flags=(--user-status --json -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--publishers --subscribers --duration --video-bitrate --messages-per-second --server --app-id --token --token-file --token-command --app-sign --reconnect-timeout --transport --user --user-name --log-level)
    __rtcbox_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--publishers')
        return
        ;;
    '--subscribers')
        return
        ;;
    '--duration')
        return
        ;;
    '--video-bitrate')
        return
        ;;
    '--messages-per-second')
        return
        ;;
    '--server')
        return
        ;;
    '--app-id')
        return
        ;;
    '--token')
        return
        ;;
    '--token-file')
        return
        ;;
    '--token-command')
        return
        ;;
    '--app-sign')
        return
        ;;
    '--reconnect-timeout')
        return
        ;;
    '--transport')
        return
        ;;
    '--user')
        return
        ;;
    '--user-name')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_rtcbox_install-links() {
    repeating_flags=()
    non_repeating_flags=(--plain --force --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __rtcbox_offer_flags_options 1
}

_rtcbox_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __rtcbox_offer_flags_options -1
}

complete -o filenames -F _rtcbox rtcbox
