/// How a policy module makes itself known: its id, the categories it owns, its
/// parameters with defaults, and a factory. Modules export one registration each; the
/// daemon lists them in one place (`BuiltinPolicies`).
public struct PolicyRegistration: Sendable {
    public var id: String
    public var version: String
    /// Category values in `order`/`listing` records this module owns. The first is the
    /// module's own id; others are sub-categories (e.g. `stand-mixer`).
    public var categories: [String]
    public var summary: String
    public var parameters: [ParameterSpec]
    public var make: @Sendable (PolicyParameters) throws -> any Policy

    public init(
        id: String, version: String, categories: [String], summary: String, parameters: [ParameterSpec],
        make: @escaping @Sendable (PolicyParameters) throws -> any Policy
    ) {
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

    public init(enabled: Bool = true, parameters: [String: RawParameter] = [:]) {
        self.enabled = enabled
        self.parameters = parameters
    }
}
