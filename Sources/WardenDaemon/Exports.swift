// The configuration file's types and loader live in WardenConfigFile (no NIO, no store),
// so the config fuzzer builds without the daemon; the daemon re-exports them.
@_exported import WardenConfigFile
