import SigilCore
import SigilStore

/// Pages through the objects a `ConditionPushdown.Plan` selects, kind after kind: the store
/// answers `plan.upper`, and when the plan is not exact each candidate is also judged by
/// `admits`. Used by "who would this condition admit" and "which service principals does this
/// policy select", so both page and count the same way.
struct PlannedListing {
    let store: any DirectoryStore
    let kinds: [DirectoryObjectKind]
    let plan: ConditionPushdown.Plan
    /// Whose own values the store hides (the caller's).
    let reader: String
    /// Load each page's attribute values even when the plan is exact (to show or label them).
    var withAttributes = false
    let admits: @Sendable (DirectoryObject, AttributeAssignments) -> Bool

    struct Page {
        var objects: [DirectoryObject] = []
        var attributes: [String: AttributeAssignments] = [:]
        /// The exact number selected, when asked for.
        var count: Int?
        /// Where the next page starts (`<kind index>:<cursor>`); nil on the last page.
        var next: String?
    }

    func page(limit: Int, position: String?, count wantsCount: Bool) async throws -> Page {
        var result = Page()
        let predicate: ObjectPredicate?
        switch plan.upper {
        case .none:
            if wantsCount { result.count = 0 }
            return result
        case .all: predicate = nil
        case .matching(let p): predicate = p
        }
        let loadAttributes = withAttributes || !plan.isExact
        var (kindIndex, cursor) = try parse(position)
        while kindIndex < kinds.count, result.objects.count < limit {
            let (page, _) = try await store.query(
                kinds[kindIndex], matching: predicate, reader: reader, order: nil, after: cursor, afterSortKey: nil,
                limit: limit - result.objects.count, count: false, withAttributes: loadAttributes)
            for object in page.objects {
                let values = page.attributes?[object.id] ?? AttributeAssignments()
                guard plan.isExact || admits(object, values) else { continue }
                result.objects.append(object)
                if loadAttributes { result.attributes[object.id] = values }
            }
            if let more = page.next {
                result.next = "\(kindIndex):\(more)"
                // A filtered page may come back short; the next page goes on from the store's cursor.
                if !plan.isExact { break }
                cursor = more
            } else {
                kindIndex += 1
                cursor = nil
                result.next = kindIndex < kinds.count ? "\(kindIndex):" : nil
            }
        }
        if result.objects.count >= limit, result.next == nil, kindIndex < kinds.count { result.next = "\(kindIndex):" }
        if wantsCount { result.count = try await count(predicate) }
        return result
    }

    /// The exact number selected: the store's count when the plan is exact, else every candidate judged.
    func count(_ predicate: ObjectPredicate?) async throws -> Int {
        var total = 0
        for kind in kinds {
            if plan.isExact {
                total +=
                    try await store.query(
                        kind, matching: predicate, reader: reader, order: nil, after: nil, afterSortKey: nil, limit: 1,
                        count: true, withAttributes: false
                    ).count ?? 0
                continue
            }
            var scan: Int64?
            repeat {
                let (page, _) = try await store.query(
                    kind, matching: predicate, reader: reader, order: nil, after: scan, afterSortKey: nil,
                    limit: Limits.maxPageSize, count: false, withAttributes: true)
                total += page.objects.count { admits($0, page.attributes?[$0.id] ?? AttributeAssignments()) }
                scan = page.next
            } while scan != nil
        }
        return total
    }

    func parse(_ position: String?) throws(GraphError) -> (Int, Int64?) {
        guard let position else { return (0, nil) }
        let parts = position.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), kinds.indices.contains(index) else {
            throw GraphError.badRequest("The page token is not valid.")
        }
        if parts[1].isEmpty { return (index, nil) }
        guard let cursor = Int64(parts[1]) else { throw GraphError.badRequest("The page token is not valid.") }
        return (index, cursor)
    }
}
