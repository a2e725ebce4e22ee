function __rtcbox_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __rtcbox_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __rtcbox_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __rtcbox_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __rtcbox_parse_tokens -S
    set -l unparsed_tokens (__rtcbox_tokens -pc)
    switch $unparsed_tokens[1]
    case 'rtcbox'
        __rtcbox_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'serve'
            __rtcbox_parse_subcommand 0 'config=' 'listen=' 'threads=' 'realtime-priority=' 'slow-consumer-timeout=' 'token-warning=' 'metrics=' 'web=' 'web-origin=+' 'udp=' 'udp-advertise=' 'tls-cert=' 'tls-key=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'token'
            __rtcbox_parse_subcommand 0 'app-id=' 'secret=' 'user=' 'room=' 'privilege=' 'streams=' 'expire=' 'decode=' 'json' 'version' 'h/help'
        case 'login'
            __rtcbox_parse_subcommand 1 'server=' 'app-id=' 'token=' 'token-file=' 'token-command=' 'app-sign=' 'reconnect-timeout=' 'transport=' 'user=' 'user-name=' 'user-status' 'send-message=+' 'set-extra-info=+' 'stdin-commands' 'once' 'duration=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'publish'
            __rtcbox_parse_subcommand 2 'whip=' 'bearer=' 'i/input=+' 'f/format-in=+' 'video-size=+' 'framerate=+' 'pixel-format=+' 'sample-rate=+' 'channels=+' 'input-option=+' 'size=' 'fps=' 'video-bitrate=' 'gop=' 'preset=' 'audio-bitrate=' 'copy' 'no-video' 'no-audio' 'realtime' 'no-realtime' 'duration=' 'extra-info=' 'traffic-control=' 'min-video-bitrate=' 'stdin-commands' 'server=' 'app-id=' 'token=' 'token-file=' 'token-command=' 'app-sign=' 'reconnect-timeout=' 'transport=' 'user=' 'user-name=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'play'
            __rtcbox_parse_subcommand 2 'whep=' 'bearer=' 'o/output=' 'format=' 'duration=' 'frames=' 'keep-waiting' 'decode' 'window' 'window-device=' 'audio-codec=' 'video-only' 'audio-only' 'server=' 'app-id=' 'token=' 'token-file=' 'token-command=' 'app-sign=' 'reconnect-timeout=' 'transport=' 'user=' 'user-name=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'record'
            __rtcbox_parse_subcommand 1 'streams=' 'dir=' 'format=' 'segment=' 'duration=' 'audio-codec=' 'server=' 'app-id=' 'token=' 'token-file=' 'token-command=' 'app-sign=' 'reconnect-timeout=' 'transport=' 'user=' 'user-name=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'relay'
            __rtcbox_parse_subcommand 1 'to=' 'streams=' 'format=' 'duration=' 'server=' 'app-id=' 'token=' 'token-file=' 'token-command=' 'app-sign=' 'reconnect-timeout=' 'transport=' 'user=' 'user-name=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'preview'
            __rtcbox_parse_subcommand 0 'i/input=+' 'f/format-in=+' 'video-size=+' 'framerate=+' 'pixel-format=+' 'sample-rate=+' 'channels=+' 'input-option=+' 'size=' 'fps=' 'video-bitrate=' 'gop=' 'preset=' 'audio-bitrate=' 'copy' 'no-video' 'no-audio' 'realtime' 'no-realtime' 'duration=' 'o/output=' 'format=' 'window' 'window-device=' 'title=' 'events=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'devices'
            __rtcbox_parse_subcommand 0 'json' 'format=' 'version' 'h/help'
        case 'load-test'
            __rtcbox_parse_subcommand 1 'publishers=' 'subscribers=' 'duration=' 'video-bitrate=' 'user-status' 'messages-per-second=' 'json' 'server=' 'app-id=' 'token=' 'token-file=' 'token-command=' 'app-sign=' 'reconnect-timeout=' 'transport=' 'user=' 'user-name=' 'v/verbose' 'q/quiet' 'log-level=' 'version' 'h/help'
        case 'install-links'
            __rtcbox_parse_subcommand 1 'plain' 'force' 'version' 'h/help'
        case 'help'
            __rtcbox_parse_subcommand -r 1 'version'
        end
    end
end

function __rtcbox_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __rtcbox_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __rtcbox_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __rtcbox_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__rtcbox_tokens -p)
    if test -z "$(__rtcbox_tokens -t)"
        set -l index (count (__rtcbox_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'rtcbox' -f
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'serve' -d 'Run the room server.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'token' -d 'Print a login token (token04) for an app, or open one.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'login' -d 'Join a room, print its events as JSON lines, and act in it.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'publish' -d 'Capture or read media, encode H.264 + AAC, and publish it as a stream of a room.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'play' -d 'Play a stream of a room into a file or stdout, without re-encoding.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'record' -d 'Record every stream of a room (or the named ones) into crash-safe files.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'relay' -d 'Push every stream of a room (or the named ones) to RTMP, SRT or RIST servers as they come and go.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'preview' -d 'Capture and encode like publish, with no server: show it in a window or write it out.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'devices' -d 'List the capture devices libavdevice sees (cameras, microphones, screens).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'load-test' -d 'Publishers and players of a room in one process, with a table of what they saw.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'install-links' -d 'Make the links that run a subcommand by name (rtcbox-publish, or publish with --plain).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_positional "rtcbox" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" config' -l 'config' -d 'TOML configuration: apps and server options (env RTCBOX_CONFIG).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" listen' -l 'listen' -d 'Listen on HOST:PORT; port 0 picks a free one (env RTCBOX_LISTEN, default 127.0.0.1:7700).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" threads' -l 'threads' -d 'Event loop threads, 0 for one per core (env RTCBOX_THREADS).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" realtime-priority' -l 'realtime-priority' -d 'Run the event loops with SCHED_FIFO at this priority (1-99), so that no ordinary process preempts a fan-out; needs CAP_SYS_NICE or `ulimit -r` (env RTCBOX_REALTIME_PRIORITY).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" slow-consumer-timeout' -l 'slow-consumer-timeout' -d 'Disconnect a subscriber that cannot take media this long (env RTCBOX_SLOW_CONSUMER_TIMEOUT, default 10s).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" token-warning' -l 'token-warning' -d 'Send token_will_expire this long before a token expires (env RTCBOX_TOKEN_WARNING, default 30s).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" metrics' -l 'metrics' -d 'Serve Prometheus metrics on http://HOST:PORT/metrics (env RTCBOX_METRICS).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" web' -l 'web' -d 'Serve the room page on http://HOST:PORT/, its WebSocket on /ws, and WHIP on /whip/ROOM/STREAM (with --udp) (env RTCBOX_WEB).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve"' -l 'web-origin' -d 'Also let pages from this origin open the WebSocket; repeatable, * for any (env RTCBOX_WEB_ORIGINS, comma-separated).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" udp' -l 'udp' -d 'Carry media over UDP on this port, WebRTC\'s wire (ICE-lite, DTLS-SRTP, every session on one port) (env RTCBOX_UDP).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" udp-advertise' -l 'udp-advertise' -d 'The IP clients send UDP media to (the ICE candidate); needed when --udp binds 0.0.0.0 or :: (env RTCBOX_UDP_ADVERTISE).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" tls-cert' -l 'tls-cert' -d 'PEM certificate chain: the web listener speaks https/wss (env RTCBOX_TLS_CERT).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" tls-key' -l 'tls-key' -d 'PEM private key of --tls-cert (env RTCBOX_TLS_KEY).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" secret' -l 'secret' -d 'The app\'s server secret, 32 characters (env RTCBOX_SERVER_SECRET).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" user' -l 'user' -d 'The user id the token is for.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" room' -l 'room' -d 'The only room the token may log into.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" privilege' -l 'privilege' -d 'Allowed privileges, comma-separated: login, publish (the others are denied).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" streams' -l 'streams' -d 'Stream ids the token may publish, comma-separated.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" expire' -l 'expire' -d 'Lifetime (e.g. 3600, 90m, 24h).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" decode' -l 'decode' -d 'Open this token with --secret and print its contents instead.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" json' -l 'json' -d 'Print a JSON object instead of the bare token.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox token" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" server' -l 'server' -d 'Room server HOST:PORT (env RTCBOX_SERVER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID). The embedded server\'s dev app is 1.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" token' -l 'token' -d 'Login token, token04 format (env RTCBOX_TOKEN).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" token-file' -l 'token-file' -d 'Read the login token from FILE, and again to renew it when it is about to expire.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" token-command' -l 'token-command' -d 'Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" app-sign' -l 'app-sign' -d 'The app\'s AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" reconnect-timeout' -l 'reconnect-timeout' -d 'Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" transport' -l 'transport' -d 'How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" user' -l 'user' -d 'User id, unique within the app (default: a random one).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" user-name' -l 'user-name' -d 'User name shown to others (default: the user id).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" user-status' -l 'user-status' -d 'Receive room_user_update events (users joining and leaving).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login"' -l 'send-message' -d 'Send a broadcast message to the room once logged in (repeatable).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login"' -l 'set-extra-info' -d 'Set a key of the room\'s extra info once logged in (repeatable).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" stdin-commands' -l 'stdin-commands' -d 'Read JSON commands from stdin, one per line; the end of stdin logs out.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" once' -l 'once' -d 'Log out as soon as the --send-message and --set-extra-info actions are done.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" duration' -l 'duration' -d 'Stay logged in this long (e.g. 30, 10s, 2m), then log out.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox login" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" whip' -l 'whip' -d 'Publish to this WHIP endpoint over WebRTC (H.264 + AAC or Opus), not into a room; DELETE on its session at the end.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" bearer' -l 'bearer' -d 'Authorization: Bearer TOKEN for --whip (env RTCBOX_BEARER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -s 'i' -l 'input' -d 'An input (repeatable; - is stdin).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -s 'f' -l 'format-in' -d 'Format or device of the next -i (lavfi, v4l2, alsa, pulse, x11grab, mpegts...).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -l 'video-size' -d 'Capture size for the next -i (a device\'s video_size, e.g. 1280x720).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -l 'framerate' -d 'Capture frame rate for the next -i (a device\'s framerate).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -l 'pixel-format' -d 'Capture pixel format for the next -i (e.g. yuyv422, mjpeg for v4l2).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -l 'sample-rate' -d 'Capture sample rate for the next -i (alsa, pulse).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -l 'channels' -d 'Capture channels for the next -i (alsa, pulse).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -l 'input-option' -d 'Any demuxer or device option for the next -i (e.g. draw_mouse=0 for x11grab).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" size' -l 'size' -d 'Output video size, WxH (default: the input\'s).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" fps' -l 'fps' -d 'Output frame rate (default: the input\'s, else 30).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" video-bitrate' -l 'video-bitrate' -d 'Video bit rate (e.g. 2M, 800k).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" gop' -l 'gop' -d 'Keyframe interval in seconds.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" preset' -l 'preset' -d 'libx264 preset (ultrafast ... veryslow).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" audio-bitrate' -l 'audio-bitrate' -d 'Audio bit rate (e.g. 64k).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" copy' -l 'copy' -d 'Pass H.264 and AAC or Opus through without re-encoding (bit-identical packets); other codecs are refused.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" no-video' -l 'no-video' -d 'Publish no video even if an input has some.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" no-audio' -l 'no-audio' -d 'Publish no audio even if an input has some.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" realtime' -l 'realtime' -d 'Read files and lavfi at native rate (default); capture devices, stdin and network streams come at their own pace.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" no-realtime' -l 'no-realtime' -d 'Read files and lavfi at native rate (default); capture devices, stdin and network streams come at their own pace.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" duration' -l 'duration' -d 'Stop after this much media (e.g. 30, 10s, 1m).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" extra-info' -l 'extra-info' -d 'Stream extra info shown to the room.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" traffic-control' -l 'traffic-control' -d 'Traffic control: lower the video bit rate when the uplink carries less than the stream, and climb back when it recovers (traffic_control events). Frames that wait too long for the link are dropped either way (video to the next keyframe). Environment RTCBOX_TRAFFIC_CONTROL.' -rfka 'on off'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" min-video-bitrate' -l 'min-video-bitrate' -d 'The lowest video bit rate traffic control goes down to (default a tenth of --video-bitrate, at least 50k).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" stdin-commands' -l 'stdin-commands' -d 'Read JSON commands from stdin while publishing (set_stream_extra_info, send_message...; see rtcbox login).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" server' -l 'server' -d 'Room server HOST:PORT (env RTCBOX_SERVER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID). The embedded server\'s dev app is 1.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" token' -l 'token' -d 'Login token, token04 format (env RTCBOX_TOKEN).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" token-file' -l 'token-file' -d 'Read the login token from FILE, and again to renew it when it is about to expire.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" token-command' -l 'token-command' -d 'Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" app-sign' -l 'app-sign' -d 'The app\'s AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" reconnect-timeout' -l 'reconnect-timeout' -d 'Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" transport' -l 'transport' -d 'How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" user' -l 'user' -d 'User id, unique within the app (default: a random one).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" user-name' -l 'user-name' -d 'User name shown to others (default: the user id).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox publish" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" whep' -l 'whep' -d 'Play from this WHEP endpoint over WebRTC, not from a room; DELETE on its session at the end.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" bearer' -l 'bearer' -d 'Authorization: Bearer TOKEN for --whep (env RTCBOX_BEARER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" o output' -s 'o' -l 'output' -d 'Output file, - for stdout, or a server to push to: rtmp://HOST/APP/KEY (FLV), srt://, rist://, udp:// (MPEG-TS); a push reconnects with backoff when the far end drops.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" format' -l 'format' -d 'Container: mpegts, nut, matroska, flv or mp4 (fragmented); with --decode yuv4mpegpipe, or s16le, f32le, wav. Default: from the file name; mpegts on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" duration' -l 'duration' -d 'Stop after this much media (e.g. 10, 10s, 1m).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" frames' -l 'frames' -d 'Stop after this many video frames.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" keep-waiting' -l 'keep-waiting' -d 'Keep playing when the publisher stops, and resume when it comes back.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" decode' -l 'decode' -d 'Decode and write raw media: yuv4mpegpipe video, or with --audio-only s16le, f32le or wav PCM (--format).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" window' -l 'window' -d 'Show the video in a window (libavdevice sdl2, or --window-device xv) instead of writing it.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" window-device' -l 'window-device' -d 'The window\'s libavdevice output device: sdl2 or xv.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" audio-codec' -l 'audio-codec' -d 'copy keeps the stream\'s audio codec where the container allows it (Opus in mpegts, nut, matroska, mp4); aac transcodes Opus to AAC (always done for flv).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" video-only' -l 'video-only' -d 'Write the video track only.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" audio-only' -l 'audio-only' -d 'Write the audio track only.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" server' -l 'server' -d 'Room server HOST:PORT (env RTCBOX_SERVER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID). The embedded server\'s dev app is 1.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" token' -l 'token' -d 'Login token, token04 format (env RTCBOX_TOKEN).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" token-file' -l 'token-file' -d 'Read the login token from FILE, and again to renew it when it is about to expire.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" token-command' -l 'token-command' -d 'Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" app-sign' -l 'app-sign' -d 'The app\'s AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" reconnect-timeout' -l 'reconnect-timeout' -d 'Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" transport' -l 'transport' -d 'How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" user' -l 'user' -d 'User id, unique within the app (default: a random one).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" user-name' -l 'user-name' -d 'User name shown to others (default: the user id).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox play" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" streams' -l 'streams' -d 'Only these stream ids, comma-separated (recorded whenever they are live).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" dir' -l 'dir' -d 'Directory for the recordings.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" format' -l 'format' -d 'Container of the files: mp4 (fragmented), matroska (mkv), mpegts (ts), nut or flv, the names play takes.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" segment' -l 'segment' -d 'Start a new file at the first keyframe after this long (e.g. 10m).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" duration' -l 'duration' -d 'Stop recording after this long.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" audio-codec' -l 'audio-codec' -d 'copy keeps each stream\'s audio codec (Opus too: mp4, mkv and ts carry it); aac transcodes Opus to AAC.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" server' -l 'server' -d 'Room server HOST:PORT (env RTCBOX_SERVER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID). The embedded server\'s dev app is 1.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" token' -l 'token' -d 'Login token, token04 format (env RTCBOX_TOKEN).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" token-file' -l 'token-file' -d 'Read the login token from FILE, and again to renew it when it is about to expire.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" token-command' -l 'token-command' -d 'Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" app-sign' -l 'app-sign' -d 'The app\'s AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" reconnect-timeout' -l 'reconnect-timeout' -d 'Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" transport' -l 'transport' -d 'How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" user' -l 'user' -d 'User id, unique within the app (default: a random one).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" user-name' -l 'user-name' -d 'User name shown to others (default: the user id).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox record" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" to' -l 'to' -d 'Where each stream goes: a URL with {stream} (and {room}), e.g. rtmp://cdn/live/{stream}.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" streams' -l 'streams' -d 'Only these stream ids, comma-separated (pushed whenever they are live).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" format' -l 'format' -d 'Container: flv for rtmp://; mpegts (default), matroska or nut for the others.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" duration' -l 'duration' -d 'Stop after this long.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" server' -l 'server' -d 'Room server HOST:PORT (env RTCBOX_SERVER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID). The embedded server\'s dev app is 1.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" token' -l 'token' -d 'Login token, token04 format (env RTCBOX_TOKEN).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" token-file' -l 'token-file' -d 'Read the login token from FILE, and again to renew it when it is about to expire.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" token-command' -l 'token-command' -d 'Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" app-sign' -l 'app-sign' -d 'The app\'s AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" reconnect-timeout' -l 'reconnect-timeout' -d 'Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" transport' -l 'transport' -d 'How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" user' -l 'user' -d 'User id, unique within the app (default: a random one).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" user-name' -l 'user-name' -d 'User name shown to others (default: the user id).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox relay" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -s 'i' -l 'input' -d 'An input (repeatable; - is stdin).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -s 'f' -l 'format-in' -d 'Format or device of the next -i (lavfi, v4l2, alsa, pulse, x11grab, mpegts...).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -l 'video-size' -d 'Capture size for the next -i (a device\'s video_size, e.g. 1280x720).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -l 'framerate' -d 'Capture frame rate for the next -i (a device\'s framerate).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -l 'pixel-format' -d 'Capture pixel format for the next -i (e.g. yuyv422, mjpeg for v4l2).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -l 'sample-rate' -d 'Capture sample rate for the next -i (alsa, pulse).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -l 'channels' -d 'Capture channels for the next -i (alsa, pulse).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -l 'input-option' -d 'Any demuxer or device option for the next -i (e.g. draw_mouse=0 for x11grab).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" size' -l 'size' -d 'Output video size, WxH (default: the input\'s).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" fps' -l 'fps' -d 'Output frame rate (default: the input\'s, else 30).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" video-bitrate' -l 'video-bitrate' -d 'Video bit rate (e.g. 2M, 800k).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" gop' -l 'gop' -d 'Keyframe interval in seconds.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" preset' -l 'preset' -d 'libx264 preset (ultrafast ... veryslow).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" audio-bitrate' -l 'audio-bitrate' -d 'Audio bit rate (e.g. 64k).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" copy' -l 'copy' -d 'Pass H.264 and AAC or Opus through without re-encoding (bit-identical packets); other codecs are refused.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" no-video' -l 'no-video' -d 'Publish no video even if an input has some.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" no-audio' -l 'no-audio' -d 'Publish no audio even if an input has some.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" realtime' -l 'realtime' -d 'Read files and lavfi at native rate (default); capture devices, stdin and network streams come at their own pace.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" no-realtime' -l 'no-realtime' -d 'Read files and lavfi at native rate (default); capture devices, stdin and network streams come at their own pace.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" duration' -l 'duration' -d 'Stop after this much media (e.g. 30, 10s, 1m).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" o output' -s 'o' -l 'output' -d 'Write the encoded stream to a file, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" format' -l 'format' -d 'Container for -o: mpegts, nut, matroska, flv or mp4. Default: from the file name; mpegts on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" window' -l 'window' -d 'Show the video in a window.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" window-device' -l 'window-device' -d 'The window\'s libavdevice output device: sdl2 or xv.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" title' -l 'title' -d 'The window title.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" events' -l 'events' -d 'Write JSON-lines events to FILE, or - for stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox preview" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox devices" json' -l 'json' -d 'Print JSON instead of lines.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox devices" format' -l 'format' -d 'Only this format (v4l2, alsa, pulse, x11grab...).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox devices" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox devices" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" publishers' -l 'publishers' -d 'Publishers (one stream each).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" subscribers' -l 'subscribers' -d 'Players, spread over the streams.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" duration' -l 'duration' -d 'How long to measure after everyone joined (e.g. 20s).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" video-bitrate' -l 'video-bitrate' -d 'Video bit rate of each synthetic stream (e.g. 2M).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" user-status' -l 'user-status' -d 'Players ask for user events (each join goes to every member that asked).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" messages-per-second' -l 'messages-per-second' -d 'Broadcast messages a second to the room; members time their delivery.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" json' -l 'json' -d 'Print one JSON object instead of a table.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" server' -l 'server' -d 'Room server HOST:PORT (env RTCBOX_SERVER).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" app-id' -l 'app-id' -d 'Application id (env RTCBOX_APP_ID). The embedded server\'s dev app is 1.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" token' -l 'token' -d 'Login token, token04 format (env RTCBOX_TOKEN).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" token-file' -l 'token-file' -d 'Read the login token from FILE, and again to renew it when it is about to expire.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" token-command' -l 'token-command' -d 'Run CMD (with sh -c) for the login token, and again to renew it; it prints the token on stdout.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" app-sign' -l 'app-sign' -d 'The app\'s AppSign, 64 hex characters (env RTCBOX_APP_SIGN); it never leaves this machine, the login carries a signature.' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" reconnect-timeout' -l 'reconnect-timeout' -d 'Keep reconnecting this long after the connection drops, resuming the session (default 60s; 0: give up at once).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" transport' -l 'transport' -d 'How media travels: auto (UDP when the server offers it and answers within 2 s, else the room connection), udp (UDP only), tcp (env RTCBOX_TRANSPORT; default auto).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" user' -l 'user' -d 'User id, unique within the app (default: a random one).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" user-name' -l 'user-name' -d 'User name shown to others (default: the user id).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test"' -s 'v' -l 'verbose' -d 'Log more on stderr (repeat for debug).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" q quiet' -s 'q' -l 'quiet' -d 'Log only errors on stderr, and no progress line.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical (env RTCBOX_LOG_LEVEL).' -rfka ''
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox load-test" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox install-links" plain' -l 'plain' -d 'Also make links with the bare subcommand names (publish, play, ...).'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox install-links" force' -l 'force' -d 'Replace existing files of the same names.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox install-links" version' -l 'version' -d 'Show the version.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox install-links" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'rtcbox' -n '__rtcbox_should_offer_completions_for_flags_or_options "rtcbox help" version' -l 'version' -d 'Show the version.'
