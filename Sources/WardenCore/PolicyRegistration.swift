/// How a policy module makes itself known: its id, the categories it owns, its
/// parameters with defaults, and a factory. Modules export one registration each; the
/// daemon lists them in one place (`BuiltinPolicies`).
public struct PolicyRegistration: Sendable {
    public enum Origin: String, Sendable {
        /// Compiled into wardend.
        case builtin
        /// An executable speaking SPEC.md §6.
        case external
    }

    public var id: String
    public var version: String
    /// Category values in `order`/`listing` records this module owns. The first is the
    /// module's own id; others are sub-categories (e.g. `stand-mixer`).
    public var categories: [String]
    public var summary: String
    public var parameters: [ParameterSpec]
    public var make: @Sendable (PolicyParameters) throws -> any Policy
    public var origin: Origin = .builtin
    /// Record types the module owns beyond the core's (SPEC.md §6 `record_types`).
    public var recordTypes: [RecordDeclaration] = []
    /// Why an external module could not be started (its handshake failed): the module
    /// is `failed` with this reason.
    public var failure: String?

    public init(
        id: String, version: String, categories: [String], summary: String, parameters: [ParameterSpec],
        recordTypes: [RecordDeclaration] = [], make: @escaping @Sendable (PolicyParameters) throws -> any Policy
    ) {
        self.recordTypes = recordTypes
        self.id = id
        self.version = version
        self.categories = categories
        self.summary = summary
        self.parameters = parameters
        self.make = make
    }
}

/// A policy's table in the config, before interpretation.
public struct PolicySettings: Sendable, Equatable {
    public var enabled: Bool
    public var parameters: [String: RawParameter]
    /// Set when the table has `exec`: the module runs out of process (SPEC.md §6).
    public var external: ExternalSettings?

    public init(enabled: Bool = true, parameters: [String: RawParameter] = [:], external: ExternalSettings? = nil) {
        self.enabled = enabled
        self.parameters = parameters
        self.external = external
    }
}

/// How to run an external module: `exec`, `args`, `timeout` of its `[policies.<id>]`.
public struct ExternalSettings: Sendable, Equatable {
    /// Absolute (a relative `exec` is resolved against the config file's directory).
    public var exec: String
    public var args: [String]
    /// Per call (`initialize`, `evaluate`).
    public var timeout: TimeSpan

    public static let defaultTimeout = TimeSpan.seconds(5)
    /// The longest per-call timeout the config takes.
    public static let maxTimeout = TimeSpan.seconds(600)

    public init(exec: String, args: [String] = [], timeout: TimeSpan = ExternalSettings.defaultTimeout) {
        self.exec = exec
        self.args = args
        self.timeout = timeout
    }
}
