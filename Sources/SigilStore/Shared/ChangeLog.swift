import Foundation
import SigilCore

/// One committed change to a user or service principal, in the store's change log: written in
/// the same transaction as the change, numbered by a sequence that grows in commit order, so a
/// reader that has seen number n has seen every change before it. Delta queries and change
/// notifications read it.
public struct DirectoryChange: Sendable, Equatable {
    public enum ChangeType: String, Sendable {
        case created, updated, deleted
    }

    /// The sequence number (0 until the store assigns it).
    public var seq: Int64
    public var kind: DirectoryObjectKind
    public var objectId: String
    public var type: ChangeType
    /// Ordinary properties whose values changed (empty for a delete).
    public var properties: [String]
    /// Attribute sets whose custom security attribute values changed, as named in the schema.
    public var attributeSets: [String]
    /// When the change was written (seconds since 1970): delivery latency is measured from it.
    public var time: Double = 0

    public init(
        seq: Int64 = 0, kind: DirectoryObjectKind, objectId: String, type: ChangeType, properties: [String] = [],
        attributeSets: [String] = []
    ) {
        (self.seq, self.kind, self.objectId, self.type, self.properties, self.attributeSets) =
            (seq, kind, objectId, type, properties, attributeSets)
    }

    /// Only users and service principals are tracked (the kinds delta and subscriptions serve).
    public static func isTracked(_ kind: DirectoryObjectKind) -> Bool { kind != .application }

    /// The change from `before` to `after` (nil: absent), or nil when nothing tracked changed.
    public static func between(_ before: ObjectState?, _ after: ObjectState?) -> DirectoryChange? {
        guard let object = after?.object ?? before?.object, isTracked(object.kind) else { return nil }
        guard let after else { return DirectoryChange(kind: object.kind, objectId: object.id, type: .deleted) }
        let previous = before ?? ObjectState(object: DirectoryObject(kind: object.kind, id: object.id, properties: JSONObject()), attributes: AttributeAssignments())
        let names = Set(previous.object.properties.keys).union(after.object.properties.keys)
        let properties = names.filter { previous.object.properties[$0] != after.object.properties[$0] }.sorted()
        var sets: [String: String] = [:]
        let definitions = Set(previous.attributes.attributes.map { nameKey($0.definitionId) })
            .union(after.attributes.attributes.map { nameKey($0.definitionId) })
        for key in definitions where previous.attributes.values(of: key) != after.attributes.values(of: key) {
            let id =
                (after.attributes.attributes + previous.attributes.attributes).first { nameKey($0.definitionId) == key }?
                .definitionId ?? key
            if let set = AttributeDefinition.split(id: id)?.set { sets[nameKey(set)] = set }
        }
        guard before == nil || !properties.isEmpty || !sets.isEmpty else { return nil }
        return DirectoryChange(
            kind: object.kind, objectId: object.id, type: before == nil ? .created : .updated, properties: properties,
            attributeSets: sets.values.sorted())
    }

    /// The comma-separated column form of a name list (names never hold commas).
    static func column(_ names: [String]) -> String { names.joined(separator: ",") }
    static func names(_ column: String) -> [String] { column.split(separator: ",").map(String.init) }
}

/// Reading the change log.
public struct ChangeQuery: Sendable {
    public var kind: DirectoryObjectKind
    /// Changes after this sequence number...
    public var after: Int64
    /// ...up to and including this one.
    public var through: Int64
    /// Only these objects (lower-cased ids), when given.
    public var objectIds: [String]?
    public var limit: Int

    public init(kind: DirectoryObjectKind, after: Int64, through: Int64, objectIds: [String]? = nil, limit: Int) {
        (self.kind, self.after, self.through, self.objectIds, self.limit) = (kind, after, through, objectIds, limit)
    }
}
