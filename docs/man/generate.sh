#!/bin/sh
# Regenerates wardenctl's manual page (docs/man/wardenctl.1) and its shell completions
# (docs/completions/) from the command definitions in Sources/wardenctl. wardend parses
# its own command line (Sources/wardend/CommandLine.swift) and its page, wardend.1, is
# kept by hand (CommandLineTests checks it names every option). Run from the repository root after changing a command, an option
# or its help text; CommandLineTests fails while the committed completions are stale.
#
# The man pages come from swift-argument-parser's GenerateManual plugin (works offline:
# it is built from the package's own checkout); completions from the built wardenctl.
set -eu
cd "$(dirname "$0")/../.."
swift build --product wardenctl
swift package generate-manual --configuration debug --date "$(date -u +%Y-%m-%d)" --authors "the Warden developers"
cp .build/plugins/GenerateManual/outputs/wardenctl/wardenctl.1 docs/man/wardenctl.1
bin=$(swift build --show-bin-path)/wardenctl
"$bin" --generate-completion-script bash > docs/completions/wardenctl.bash
"$bin" --generate-completion-script zsh > docs/completions/_wardenctl
"$bin" --generate-completion-script fish > docs/completions/wardenctl.fish
echo "docs/man and docs/completions regenerated"
