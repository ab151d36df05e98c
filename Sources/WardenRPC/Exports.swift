// The request and error types are NIO-free (WardenProtocol), so that the fuzzers and
// the client can use them without the server; the server re-exports them.
@_exported import WardenProtocol
