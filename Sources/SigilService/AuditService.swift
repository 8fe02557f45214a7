import SigilCore
import SigilStore

/// Reading the custom security attribute audit log, and one object's value history (a Sigil
/// extension): the access checks and the visibility rule, for the API and the console alike.
public struct AuditService: Sendable {
    let services: SigilServices

    public init(services: SigilServices) { self.services = services }

    /// The log as `caller` may read it: only the two log roles, at tenant scope, get a reader.
    /// Checking once hands back the handle every read goes through.
    public func reader(for caller: Caller) throws(GraphError) -> LogReader {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readAuditLogs))
        return LogReader(store: services.store)
    }

    /// Reads of the whole log, for a caller that holds a log role.
    public struct LogReader: Sendable {
        let store: any DirectoryStore

        public func records(_ query: AuditQuery, after cursor: Int64?, limit: Int) async throws -> AuditPage {
            try await store.auditRecords(query, after: cursor, limit: limit)
        }

        public func record(id: String) async throws -> JSONObject {
            guard let record = try await store.auditRecord(id: id) else { throw GraphError.notFound(id) }
            let object = try AuditService.decode(record)
            // Conditional Access records share the chain but are not attribute audits.
            guard object["category"]?.stringValue == AuditActivity.category else { throw GraphError.notFound(id) }
            return object
        }
    }

    public static func decode(_ record: StoredAuditRecord) throws -> JSONObject {
        guard let object = (try? JSON.parse(record.json))?.objectValue else {
            throw StoreError.corrupt("audit record \(record.seq) is not a JSON object")
        }
        return object
    }

    /// One page of an object's history.
    public struct HistoryPage: Sendable {
        public let object: DirectoryObject
        public let records: [JSONObject]
        /// The position to continue after, when there is more.
        public let next: Int64?
    }

    /// The changes to one object's attribute values, newest first, each cut down to the
    /// attributes the caller may read; a change that touched none of those is left out. `cursor`
    /// comes from the previous page's `next`, once the caller has the object (`binding` ties page
    /// tokens to it).
    public func history(
        _ kind: DirectoryObjectKind, id: String, limit: Int, caller: Caller, cursor: (DirectoryObject) throws -> Int64?
    ) async throws -> HistoryPage {
        let object = try await DirectoryService(services: services).readable(kind, id: id, caller: caller).object
        try AccessPolicy.require(AccessPolicy.allowsAnywhere(caller, .readAssignments))
        var query = AuditQuery()
        query.activity = AuditActivity.values(of: kind)
        query.result = .success
        query.targetId = object.id.lowercased()
        var position = try cursor(object)
        let schema = try await services.store.schema()
        var items: [JSONObject] = []
        var last: Int64?
        var exhausted = false
        // Hidden records can thin a page out: read on until it is full or the history ends.
        repeat {
            let page = try await services.store.auditRecords(query, after: position, limit: limit)
            var consumedAll = true
            for record in page.records {
                guard items.count < limit else {
                    consumedAll = false
                    break
                }
                if let visible = Self.visible(try Self.decode(record), objectId: object.id, schema: schema, caller: caller) {
                    items.append(visible)
                }
                last = record.seq
            }
            position = page.next
            exhausted = consumedAll && page.next == nil
        } while items.count < limit && position != nil
        return HistoryPage(object: object, records: items, next: exhausted ? nil : last)
    }

    /// The record with only the modified properties whose attribute set the caller may read
    /// values in; nil when none is left. A caller never reads its own values (as in Graph).
    static func visible(_ record: JSONObject, objectId: String, schema: Schema, caller: Caller) -> JSONObject? {
        guard caller.principalId != objectId, case .array(let targets)? = record["targetResources"] else { return nil }
        var filtered: [JSONValue] = []
        var anyVisible = false
        for case .object(var target) in targets {
            if case .array(let properties)? = target["modifiedProperties"] {
                let kept = properties.filter { property in
                    guard let name = property.objectValue?["displayName"]?.stringValue,
                        let definition = schema.definition(id: name)
                    else { return false }
                    return AccessPolicy.allows(caller, .readAssignments, inSet: definition.attributeSet)
                }
                anyVisible = anyVisible || !kept.isEmpty
                target["modifiedProperties"] = .array(kept)
            }
            filtered.append(.object(target))
        }
        guard anyVisible else { return nil }
        var result = record
        result["targetResources"] = .array(filtered)
        return result
    }
}
