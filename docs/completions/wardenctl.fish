function __wardenctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __wardenctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __wardenctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __wardenctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __wardenctl_parse_tokens -S
    set -l unparsed_tokens (__wardenctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'wardenctl'
        __wardenctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'status'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'version' 'h/help'
        case 'policies'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'version' 'h/help'
        case 'cases'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'state=' 'category=' 'shop=' 'limit=' 'cursor=' 'version' 'h/help'
        case 'case'
            __wardenctl_parse_subcommand 1 'socket=' 'json' 'version' 'h/help'
        case 'order'
            __wardenctl_parse_subcommand 1 'socket=' 'json' 'version' 'h/help'
        case 'deadlines'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'within=' 'limit=' 'version' 'h/help'
        case 'ledger'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'from=' 'to=' 'version' 'h/help'
        case 'findings'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'rule=' 'subject=' 'limit=' 'cursor=' 'version' 'h/help'
        case 'shop'
            __wardenctl_parse_subcommand 1 'socket=' 'json' 'version' 'h/help'
        case 'spool'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'limit=' 'version' 'h/help'
        case 'evidence'
            __wardenctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'submit'
                __wardenctl_parse_subcommand 1 'socket=' 'json' 'item=+' 'note=' 'version' 'h/help'
            end
        case 'submit'
            __wardenctl_parse_subcommand 1 'socket=' 'json' 'format=' 'version' 'h/help'
        case 'watch'
            __wardenctl_parse_subcommand -r 1 'socket=' 'json' 'since=' 'count=' 'version' 'h/help'
        case 'reload'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'version' 'h/help'
        case 'metrics'
            __wardenctl_parse_subcommand 0 'socket=' 'json' 'version' 'h/help'
        case 'call'
            __wardenctl_parse_subcommand 2 'socket=' 'json' 'version' 'h/help'
        case 'help'
            __wardenctl_parse_subcommand -r 1 'version'
        end
    end
end

function __wardenctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __wardenctl_parse_subcommand -S -a positional_count
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

function __wardenctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __wardenctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__wardenctl_tokens -p)
    if test -z "$(__wardenctl_tokens -t)"
        set -l index (count (__wardenctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'wardenctl' -f
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'status' -d 'Show the daemon\'s status.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'policies' -d 'List policy modules and their parameters.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'cases' -d 'List cases.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'case' -d 'Show one case with its evidence and history.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'order' -d 'Show one order and its cases.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'deadlines' -d 'List pending deadlines, soonest first.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'ledger' -d 'Show ledger totals and entries.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'findings' -d 'List findings (rule breaches without a deadline).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'shop' -d 'Show a shop: original-design eligibility (L1-L5) and monthly service quality (S1-S3).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'spool' -d 'Show the spool: files waiting, processed, rejected, and why files were rejected.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'evidence' -d 'Submit evidence for a case.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'submit' -d 'Submit the records of a file in one transaction (record.submit).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'watch' -d 'Follow events live, one line per event.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'reload' -d 'Reload wardend\'s configuration file (daemon.reload).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'metrics' -d 'Print the daemon\'s metrics in the Prometheus text format (what GET /metrics serves).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'call' -d 'Call any method with JSON params and print the result.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl status" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl status" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl status" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl policies" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl policies" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl policies" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl policies" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" state' -l 'state' -d 'Only cases in this state (e.g. awaiting-evidence).' -rfka 'awaiting-evidence awaiting-action evidence-submitted reminder platform-handled resolved dismissed defaulted liable penalized'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" category' -l 'category' -d 'Only cases of this category (policy id).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" shop' -l 'shop' -d 'Only cases of this shop.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" limit' -l 'limit' -d 'At most this many (1-1000).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" cursor' -l 'cursor' -d 'Continue after this cursor (from a previous page).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl cases" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl case" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl case" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl case" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl case" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl order" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl order" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl order" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl order" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl deadlines" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl deadlines" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl deadlines" within' -l 'within' -d 'How far ahead to look (e.g. 6h, 2d).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl deadlines" limit' -l 'limit' -d 'At most this many (1-1000).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl deadlines" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl deadlines" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl ledger" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl ledger" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl ledger" from' -l 'from' -d 'From this time (inclusive).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl ledger" to' -l 'to' -d 'Until this time (exclusive).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl ledger" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl ledger" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" rule' -l 'rule' -d 'Only this rule (e.g. K1, M4).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" subject' -l 'subject' -d 'Only this subject (e.g. listing:L1, order:O1, shop:S).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" limit' -l 'limit' -d 'At most this many (1-1000).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" cursor' -l 'cursor' -d 'Continue after this cursor.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl findings" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl shop" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl shop" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl shop" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl shop" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl spool" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl spool" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl spool" limit' -l 'limit' -d 'At most this many rejected files (1-1000).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl spool" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl spool" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl evidence" -eq 1' -fa 'submit' -d 'Submit evidence items (KIND=REF) for a case now.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence submit" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence submit" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence submit"' -l 'item' -d 'An item, e.g. delivery-photo=/srv/photos/1.jpg (repeatable).' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence submit" note' -l 'note' -d 'A note for the platform.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence submit" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl evidence submit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl submit" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl submit" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl submit" -eq 1' -fa '(set -l exts \'json\' \'ndjson\' \'jsonl\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl submit" format' -l 'format' -d 'Read the file as this format (default: by extension).' -rfka 'json ndjson'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl submit" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl submit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl watch" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl watch" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_positional "wardenctl watch" -ge 1' -fka 'case.opened case.changed deadline.warning deadline.expired ledger.entry finding.new spool.rejected'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl watch" since' -l 'since' -d 'Replay stored events after this seq first.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl watch" count' -l 'count' -d 'Exit after this many events.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl watch" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl watch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl reload" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl reload" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl reload" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl reload" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl metrics" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl metrics" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl metrics" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl metrics" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl call" socket' -l 'socket' -d 'wardend\'s socket.' -rfka ''
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl call" json' -l 'json' -d 'Print the raw JSON result (for scripts).'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl call" version' -l 'version' -d 'Show the version.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl call" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'wardenctl' -n '__wardenctl_should_offer_completions_for_flags_or_options "wardenctl help" version' -l 'version' -d 'Show the version.'
