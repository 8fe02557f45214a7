import Foundation
import SigilCore
import SigilStore

/// Delta queries on users and service principals (`/users/delta`, `/servicePrincipals/delta`):
/// an initial round that pages through every object, then rounds of what changed since the
/// previous round's deltaLink, read from the store's change log. A caller sees only what a GET
/// would show it: an attribute change in a set it may not read does not appear at all.
public struct DeltaService: Sendable {
    let services: SigilServices

    public init(services: SigilServices) { self.services = services }

    /// Where a round stands, carried inside the opaque (HMAC-protected) tokens.
    struct State: Codable, Equatable {
        enum Phase: String, Codable {
            /// Initial round: objects after rowid `after`; changes through `through` are covered.
            case initial = "i"
            /// A change round: changes in (`from`, `through`], continuing after `after`.
            case changes = "c"
            /// A deltaLink: the next round starts after `from`.
            case next = "d"
        }
        var phase: Phase
        var from: Int64
        var through: Int64
        var after: Int64
        var select: [String]?
        var ids: [String]?
    }

    /// One entry of a delta page.
    public enum Entry: Sendable {
        /// An object as it is now. `changed` is nil for a full representation (created, or the
        /// initial round); otherwise the properties that changed, for `Prefer: return=minimal`.
        case object(DirectoryObject, attributes: AttributeAssignments?, changed: Changed?)
        /// Deleted (Sigil deletes for good, so always `deleted`).
        case removed(id: String)
    }

    public struct Changed: Sendable, Equatable {
        public var properties: [String]
        public var attributes: Bool
    }

    public struct Page: Sendable {
        public var entries: [Entry]
        /// The token for `@odata.nextLink` ($skiptoken), or for `@odata.deltaLink` ($deltatoken).
        public var skipToken: String?
        public var deltaToken: String?
        public var selection: [String]?
    }

    /// What a delta request asks for.
    public enum Request: Sendable {
        /// A new initial round, optionally only for the objects `ids` (`$filter=id eq ...`).
        case start(selection: [String]?, ids: [String]?)
        /// `$deltatoken=latest`: no objects, a deltaLink from now on.
        case latest(selection: [String]?, ids: [String]?)
        case skipToken(String)
        case deltaToken(String)
    }

    static func tokenScope(_ kind: DirectoryObjectKind) -> String { "delta|\(kind.rawValue)" }

    func encode(_ state: State, _ kind: DirectoryObjectKind) throws -> String {
        let data = try JSONEncoder().encode(state)
        return services.pageTokens.token(payload: String(decoding: data, as: UTF8.self), query: Self.tokenScope(kind))
    }

    func decode(_ token: String, _ kind: DirectoryObjectKind, as phases: Set<State.Phase>, name: String) throws -> State {
        let invalid = GraphError.badRequest(
            "The \(name) is not valid for this request; use the @odata.nextLink or @odata.deltaLink of a previous response.")
        guard let payload = try? services.pageTokens.payload(token, query: Self.tokenScope(kind)),
            let state = try? JSONDecoder().decode(State.self, from: Data(payload.utf8)), phases.contains(state.phase)
        else { throw invalid }
        return state
    }

    /// A page of the delta round `request`, through the handle of a caller allowed to list the
    /// directory (`DirectoryService.lister(for:)`, the one check).
    public func page(
        _ kind: DirectoryObjectKind, _ request: Request, lister: DirectoryService.Lister, pageSize: Int = Limits.defaultPageSize
    ) async throws -> Page {
        let caller = lister.caller
        let state: State
        switch request {
        case .start(let selection, let ids):
            let latest = try await services.store.latestChange()
            state = State(phase: .initial, from: 0, through: latest, after: 0, select: selection, ids: ids)
        case .latest(let selection, let ids):
            let latest = try await services.store.latestChange()
            let next = State(phase: .next, from: latest, through: latest, after: latest, select: selection, ids: ids)
            return Page(entries: [], deltaToken: try encode(next, kind), selection: selection)
        case .skipToken(let token):
            state = try decode(token, kind, as: [.initial, .changes], name: "$skiptoken")
        case .deltaToken(let token):
            let previous = try decode(token, kind, as: [.next], name: "$deltatoken")
            let latest = try await services.store.latestChange()
            state = State(
                phase: .changes, from: previous.from, through: latest, after: previous.from, select: previous.select,
                ids: previous.ids)
        }
        switch state.phase {
        case .initial: return try await initialPage(kind, state, lister: lister, pageSize: pageSize)
        case .changes, .next: return try await changePage(kind, state, caller: caller, pageSize: pageSize)
        }
    }

    var wantsAttributes: (State) -> Bool { { $0.select?.contains("customSecurityAttributes") == true } }

    func initialPage(_ kind: DirectoryObjectKind, _ state: State, lister: DirectoryService.Lister, pageSize: Int)
        async throws -> Page
    {
        let done = State(
            phase: .next, from: state.through, through: state.through, after: state.through, select: state.select, ids: state.ids)
        if let ids = state.ids {
            // At most Limits.deltaFilterIds objects: one page.
            var entries: [Entry] = []
            for id in ids {
                guard let found = try await services.store.objectState(kind, id: id) else { continue }
                entries.append(.object(found.object, attributes: found.attributes, changed: nil))
            }
            return Page(entries: entries, deltaToken: try encode(done, kind), selection: state.select)
        }
        let (page, _) = try await lister.list(
            kind, filter: nil, advanced: false,
            .init(after: state.after == 0 ? nil : state.after, limit: pageSize, count: false, withAttributes: wantsAttributes(state)))
        let entries = page.objects.map { Entry.object($0, attributes: page.attributes?[$0.id] ?? AttributeAssignments(), changed: nil) }
        guard let next = page.next else {
            return Page(entries: entries, deltaToken: try encode(done, kind), selection: state.select)
        }
        var following = state
        following.after = next
        return Page(entries: entries, skipToken: try encode(following, kind), selection: state.select)
    }

    /// Whether `change` shows anything to `caller`: creates, deletes and property changes do;
    /// an attribute change only in sets it may read.
    static func isVisible(_ change: DirectoryChange, to caller: Caller) -> Bool {
        change.type != .updated || !change.properties.isEmpty
            || change.attributeSets.contains { AssignmentRules.readsValues(inSet: $0, of: change.objectId, caller: caller) }
    }

    /// The objects (with their values) of `ids` as they are now, a few read at once (enough to
    /// overlap PostgreSQL's round trips); an object deleted meanwhile is missing.
    func objectStates(_ kind: DirectoryObjectKind, _ ids: [String]) async throws -> [String: ObjectState] {
        let store = services.store
        var states: [String: ObjectState] = [:]
        var next = 0
        try await withThrowingTaskGroup(of: (String, ObjectState?).self) { group in
            func readNext() {
                guard next < ids.count else { return }
                let id = ids[next]
                next += 1
                group.addTask { (id, try await store.objectState(kind, id: id)) }
            }
            for _ in 0..<Self.readsAtOnce { readNext() }
            while let (id, state) = try await group.next() {
                states[id] = state
                readNext()
            }
        }
        return states
    }

    static let readsAtOnce = 8

    /// Each object changed in (`from`, `through`] appears once, at its last change, with what
    /// changed over the whole round; pages fill up to `pageSize` entries.
    func changePage(_ kind: DirectoryObjectKind, _ state: State, caller: Caller, pageSize: Int) async throws -> Page {
        var entries: [Entry] = []
        var cursor = state.after
        let ids = state.ids
        scan: while entries.count < pageSize, cursor < state.through {
            let rows = try await services.store.changes(
                ChangeQuery(kind: kind, after: cursor, through: state.through, objectIds: ids, limit: pageSize * 4))
            guard !rows.isEmpty else {
                cursor = state.through
                break
            }
            let history = Dictionary(
                grouping: try await services.store.changes(
                    ChangeQuery(
                        kind: kind, after: state.from, through: state.through, objectIds: Array(Set(rows.map(\.objectId))),
                        limit: Int(Int32.max))),
                by: \.objectId)
            // Rows in windows of at most the page's remaining room of entries, each window's
            // objects read together: one read after another was a round trip per object on
            // PostgreSQL (about 20 ms for a page of 100).
            var start = 0
            while start < rows.count {
                // The next rows up to the page's remaining room of entries, each with the changes
                // of its object over the round and those the caller may see (nil: the row makes
                // no entry — not the object's last change, or nothing the caller may see).
                var window: [(row: DirectoryChange, entry: (changes: [DirectoryChange], visible: [DirectoryChange])?)] = []
                var room = pageSize - entries.count
                while start + window.count < rows.count, room > 0 {
                    let row = rows[start + window.count]
                    var entry: (changes: [DirectoryChange], visible: [DirectoryChange])?
                    if let changes = history[row.objectId], changes.last?.seq == row.seq {
                        let visible = changes.filter { Self.isVisible($0, to: caller) }
                        if !visible.isEmpty { entry = (changes, visible) }
                    }
                    if entry != nil { room -= 1 }
                    window.append((row, entry))
                }
                let current = try await objectStates(
                    kind, window.compactMap { $0.entry != nil && $0.row.type != .deleted ? $0.row.objectId : nil })
                for (row, entry) in window {
                    cursor = row.seq
                    guard let (changes, visible) = entry else { continue }
                    if row.type == .deleted {
                        entries.append(.removed(id: row.objectId))
                    } else if let current = current[row.objectId] {
                        let created = changes.contains { $0.type == .created }
                        let changed = Changed(
                            properties: Array(Set(visible.flatMap(\.properties))).sorted(),
                            attributes: visible.contains { change in
                                change.attributeSets.contains { AssignmentRules.readsValues(inSet: $0, of: change.objectId, caller: caller) }
                            })
                        entries.append(.object(current.object, attributes: current.attributes, changed: created ? nil : changed))
                    }
                    // An object missing now was deleted after `through`: the next round reports it.
                    if entries.count >= pageSize { break scan }
                }
                start += window.count
            }
        }
        var following = state
        following.after = cursor
        if cursor < state.through {
            following.phase = .changes
            return Page(entries: entries, skipToken: try encode(following, kind), selection: state.select)
        }
        let done = State(
            phase: .next, from: state.through, through: state.through, after: state.through, select: state.select, ids: state.ids)
        return Page(entries: entries, deltaToken: try encode(done, kind), selection: state.select)
    }
}
