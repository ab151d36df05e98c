/// The policies of one configuration, built once before services start and immutable
/// after (a reload builds a new one).
///
/// "Configured off" (`disabled`) and "failed to load" (`failed`) are different states and
/// both are visible in `policy.list`. A duplicate module id is a programming error.
public struct PolicyRegistry: Sendable {
    public enum Status: Sendable, Equatable {
        case enabled
        case disabled
        case failed(String)

        public var name: String {
            switch self {
            case .enabled: "enabled"
            case .disabled: "disabled"
            case .failed: "failed"
            }
        }
    }

    public struct Entry: Sendable {
        public var registration: PolicyRegistration
        public var status: Status
        public var parameters: PolicyParameters
        public var policy: (any Policy)?
    }

    public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The config key, e.g. `policies.kitchen-appliances.compensation`.
        public var key: String
        public var message: String
        public var description: String { "\(key): \(message)" }
    }

    public let entries: [Entry]
    private let byCategory: [String: Int]

    /// Interprets `settings` (keyed by module id) against `registrations`. Every
    /// parameter error is collected; any error makes the whole configuration invalid.
    public init(registrations: [PolicyRegistration], settings: [String: PolicySettings]) throws(ConfigErrors) {
        var seen = Set<String>()
        var errors: [ConfigError] = []
        for id in settings.keys.sorted() where !registrations.contains(where: { $0.id == id }) {
            errors.append(ConfigError(key: "policies.\(id)", message: "no policy module with this id; known: \(registrations.map(\.id).joined(separator: ", "))"))
        }
        var entries: [Entry] = []
        var owned: [String: String] = [:]  // category -> module, of the enabled modules so far
        for registration in registrations {
            precondition(seen.insert(registration.id).inserted, "duplicate policy id \(registration.id)")
            let setting = settings[registration.id] ?? PolicySettings()
            // An external module's parameter errors fail that module, not the whole
            // configuration: its declaration is only known once it runs.
            let errorsBefore = errors.count
            var values: [(name: String, value: ParameterValue)] = []
            for spec in registration.parameters {
                guard let raw = setting.parameters[spec.name] else {
                    if spec.isRequired {
                        errors.append(ConfigError(key: "policies.\(registration.id).\(spec.name)", message: "missing required parameter (\(spec.kind.specName)); the module declares no default"))
                    }
                    values.append((spec.name, spec.defaultValue))
                    continue
                }
                switch spec.interpret(raw) {
                case .success(let v): values.append((spec.name, v))
                case .failure(let e):
                    errors.append(ConfigError(key: "policies.\(registration.id).\(spec.name)", message: e.message))
                    values.append((spec.name, spec.defaultValue))
                }
            }
            for name in setting.parameters.keys.sorted() where !registration.parameters.contains(where: { $0.name == name }) {
                let known = (["enabled"] + registration.parameters.map(\.name)).joined(separator: ", ")
                errors.append(ConfigError(key: "policies.\(registration.id).\(name)", message: "unknown parameter; known: \(known)"))
            }
            let parameters = PolicyParameters(values: values)
            var entry = Entry(registration: registration, status: setting.enabled ? .enabled : .disabled, parameters: parameters, policy: nil)
            if registration.origin == .external, errors.count > errorsBefore {
                let mine = errors[errorsBefore...].map(\.description)
                errors.removeSubrange(errorsBefore...)
                if setting.enabled { entry.status = .failed(mine.joined(separator: "; ")) }
            }
            if setting.enabled, let failure = registration.failure {
                entry.status = .failed(failure)
            }
            if entry.status == .enabled, let clash = registration.categories.first(where: { owned[$0] != nil }) {
                entry.status = .failed("category \"\(clash)\" is already handled by module \(owned[clash]!)")
            }
            if entry.status == .enabled {
                do {
                    entry.policy = try registration.make(parameters)
                    for category in registration.categories { owned[category] = registration.id }
                } catch {
                    entry.status = .failed("\(error)")
                }
            }
            entries.append(entry)
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        var byCategory: [String: Int] = [:]
        for (i, entry) in entries.enumerated() where entry.status == .enabled {
            for category in entry.registration.categories { byCategory[category] = i }
        }
        // Every module's types, enabled or not: a record of a disabled (or failed)
        // module's type is still valid, and stored; only its judging waits.
        var declarations: [RecordType: RecordDeclaration] = [:]
        for entry in entries where entry.status == .enabled {
            for d in entry.registration.recordTypes where declarations[d.type] == nil { declarations[d.type] = d }
        }
        for entry in entries where entry.status != .enabled {
            for d in entry.registration.recordTypes where declarations[d.type] == nil { declarations[d.type] = d }
        }
        self.entries = entries
        self.byCategory = byCategory
        self.declarations = declarations
    }

    /// Record types declared by the enabled modules, for `RecordParser`.
    public let declarations: [RecordType: RecordDeclaration]

    public struct ConfigErrors: Error, Sendable, Equatable {
        public var errors: [ConfigError]
    }

    /// The enabled policy that owns a record's `category` value, if any; records no
    /// enabled policy owns are stored as unmanaged.
    public func policy(forCategory category: String) -> (any Policy)? {
        byCategory[category].flatMap { entries[$0].policy }
    }

    /// The enabled policy with this module id.
    public func policy(id: String) -> (any Policy)? {
        entries.first { $0.registration.id == id && $0.status == .enabled }?.policy
    }

    /// The module id that owns a category value, whether or not it is enabled.
    public func moduleId(forCategory category: String) -> String? {
        entries.first { $0.registration.categories.contains(category) }?.registration.id
    }

    public var enabledIds: [String] { entries.filter { $0.status == .enabled }.map(\.registration.id) }
}
