import Foundation
import SigilCore
import Testing

@testable import SigilStore

/// The query engine against a brute-force reference: random objects, random attribute values,
/// random filters; every page and every count must equal `ObjectPredicate.matches` in memory.
@Suite struct QueryPropertyTests {
    static let countries = ["Canada", "Mexico", "France", "Germany", "Japan", "India", "Brazil", "Chile"]
    static let prefixes = ["GS", "KX", "GS1", "GS12", "KX9", "Z", "", "G"]

    static let definitions: [AttributeDefinition] = [
        AttributeDefinition(
            attributeSet: "Marketing", name: "EmployeeId", type: .string, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Marketing", name: "AppCountry", type: .string, isCollection: true, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Engineering", name: "NumVendors", type: .integer, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Engineering", name: "CostCenter", type: .integer, isCollection: true, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Engineering", name: "Certification", type: .boolean, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false),
    ]

    /// `keepingEverySet`: every term's rowid set is kept in memory from its first use, however
    /// few objects hold it, so the kept sets are checked on a small tenant. `prefixCountRows`:
    /// how many distinct values a SQLite `startsWith` count may sum from the maintained counts
    /// before it takes the prefix index (0: always the index).
    static func makeStore(keepingEverySet: Bool = false, prefixCountRows: Int = StoredValue.prefixCountRows)
        async throws -> any DirectoryStore
    {
        let minimum = keepingEverySet ? 0 : 1024
        let store: any DirectoryStore =
            StoreKind.postgresURL == nil
            ? try SQLiteStore(valueSets: ValueSets(minimumObjects: minimum), prefixCountRows: prefixCountRows)
            : try await freshPostgresStore(keptSets: LoggedValueSets(minimumObjects: minimum))
        try await store.changeSchema { _ in
            [.createSet(AttributeSet(id: "Marketing")), .createSet(AttributeSet(id: "Engineering"))]
                + definitions.map { .createDefinition($0, allowedValues: []) }
        }
        return store
    }

    static func randomValues(_ rng: inout SplitMix64) -> AttributeAssignments {
        var assignments = AttributeAssignments()
        if Bool.random(using: &rng) {
            let prefix = ["GS", "KX", "GS1"][Int.random(in: 0..<3, using: &rng)]
            assignments.set("Marketing_EmployeeId", [.string("\(prefix)\(Int.random(in: 0..<300, using: &rng))")])
        }
        if Int.random(in: 0..<3, using: &rng) > 0 {
            let picked = Set(
                (0..<Int.random(in: 1...3, using: &rng)).map { _ in countries.randomElement(using: &rng) ?? "Canada" })
            assignments.set("Marketing_AppCountry", picked.sorted().map { .string($0) })
        }
        if Bool.random(using: &rng) {
            assignments.set("Engineering_NumVendors", [.integer(Int32.random(in: 0..<6, using: &rng))])
        }
        if Bool.random(using: &rng) {
            let picked = Set((0..<Int.random(in: 1...2, using: &rng)).map { _ in Int32.random(in: 1000..<1004, using: &rng) })
            assignments.set("Engineering_CostCenter", picked.sorted().map { .integer($0) })
        }
        if Bool.random(using: &rng) { assignments.set("Engineering_Certification", [.boolean(Bool.random(using: &rng))]) }
        return assignments
    }

    static func randomLeaf(_ rng: inout SplitMix64) -> ObjectPredicate {
        let definition = definitions[Int.random(in: 0..<definitions.count, using: &rng)]
        let match: AttributeMatch
        switch definition.name {
        case "EmployeeId":
            match =
                Bool.random(using: &rng)
                ? .startsWith(prefixes.randomElement(using: &rng) ?? "GS")
                : .equals(.string("GS\(Int.random(in: 0..<300, using: &rng))"))
        case "AppCountry":
            match =
                Int.random(in: 0..<4, using: &rng) == 0
                ? .startsWith(["C", "Ca", "M", "X"].randomElement(using: &rng) ?? "C")
                : .equals(.string(countries.randomElement(using: &rng) ?? "Canada"))
        case "NumVendors": match = .equals(.integer(Int32.random(in: 0..<7, using: &rng)))
        case "CostCenter": match = .equals(.integer(Int32.random(in: 999..<1005, using: &rng)))
        default: match = .equals(.boolean(Bool.random(using: &rng)))
        }
        if Int.random(in: 0..<5, using: &rng) == 0 {
            return .property("displayName", .startsWith("User\(Int.random(in: 0..<3, using: &rng))"))
        }
        return .attribute(definition, match)
    }

    static func randomPredicate(_ rng: inout SplitMix64, depth: Int = 0) -> ObjectPredicate {
        guard depth < 3, Int.random(in: 0..<3, using: &rng) > 0 else { return randomLeaf(&rng) }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .not(randomPredicate(&rng, depth: depth + 1))
        case 1: return .and(randomPredicate(&rng, depth: depth + 1), randomPredicate(&rng, depth: depth + 1))
        default: return .or(randomPredicate(&rng, depth: depth + 1), randomPredicate(&rng, depth: depth + 1))
        }
    }

    func user(_ index: Int) -> DirectoryObject {
        let id = UUID().uuidString.lowercased()
        return DirectoryObject(
            kind: .user, id: id,
            properties: JSONObject([("displayName", .string("User\(index)")), ("userPrincipalName", .string("u\(id)@x.test"))]))
    }

    /// Pages through a query with a random page size; checks pages, order and count.
    func check(
        _ store: any DirectoryStore, _ predicate: ObjectPredicate?, reader: String? = nil, expected: [String],
        rng: inout SplitMix64
    ) async throws {
        let pageSize = Int.random(in: 1...40, using: &rng)
        var seen: [String] = []
        var cursor: Int64?
        var first = true
        repeat {
            // Later pages are counted now and then too: a counted page may take another way to its rows.
            let counted = first || Bool.random(using: &rng)
            let (page, count) = try await store.query(
                .user, matching: predicate, reader: reader, after: cursor, limit: pageSize, count: counted)
            if counted { #expect(count == expected.count, "count for \(String(describing: predicate)) read by \(reader ?? "-")") }
            first = false
            seen += page.objects.map(\.id)
            cursor = page.next
        } while cursor != nil
        #expect(seen == expected, "rows for \(String(describing: predicate)) read by \(reader ?? "-")")
    }

    /// Seed 1 counts every prefix from the prefix index, seed 2 each from whichever of the index
    /// and the maintained counts its span of values chooses, seed 3 all from the counts.
    static let prefixCountCases: [(seed: UInt64, prefixCountRows: Int)] = [(1, 0), (2, 20), (3, StoredValue.prefixCountRows)]

    @Test(arguments: prefixCountCases)
    func engineMatchesReference(seed: UInt64, prefixCountRows: Int) async throws {
        try await matchesReference(seed: seed, try await Self.makeStore(prefixCountRows: prefixCountRows))
    }

    /// The same with every term's set kept in memory and changed by each later write.
    @Test(arguments: [4, 5])
    func keptSetsMatchReference(seed: UInt64) async throws {
        try await matchesReference(seed: seed, try await Self.makeStore(keepingEverySet: true))
    }

    /// The same with the changes made as a JSON batch makes them (`sharingWrites`), a refused
    /// write after each: a rolled-back write must leave the kept sets and counts exact.
    @Test(arguments: [6, 7])
    func keptSetsMatchReferenceAfterBatchedWrites(seed: UInt64) async throws {
        try await matchesReference(seed: seed, try await Self.makeStore(keepingEverySet: true), batched: true)
    }

    /// The changes of the reference test: all at once, or in a batch with a refused write after
    /// each (on SQLite, also one whose value rows were written before it failed).
    func change(
        _ store: any DirectoryStore, _ objects: inout [(DirectoryObject, AttributeAssignments)], batched: Bool,
        rng: inout SplitMix64
    ) async throws {
        var changes: [(index: Int, values: AttributeAssignments, refused: AttributeAssignments)] = []
        for _ in 0..<60 {
            let index = Int.random(in: 0..<objects.count, using: &rng)
            let values = Self.randomValues(&rng)
            changes.append((index, values, batched ? Self.randomValues(&rng) : AttributeAssignments()))
        }
        let ids = objects.map(\.0.id)
        let planned = changes
        let write: @Sendable () async throws -> Void = {
            for change in planned {
                let id = ids[change.index]
                try await store.modify(.user, id: id, passwordHash: nil) { state, _ in
                    ObjectState(object: state.object, attributes: change.values)
                }
                guard batched else { continue }
                await #expect(throws: GraphError.self) {
                    try await store.modify(.user, id: id, passwordHash: nil) { _, _ in throw GraphError.badRequest("refused") }
                }
                // Value rows, counts and sets changed inside the write, then the write fails.
                if let sqlite = store as? SQLiteStore {
                    await #expect(throws: GraphError.self) {
                        try await sqlite.writeValues { db in
                            let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM directory_objects WHERE id = ?", arguments: [id]) ?? 0
                            var rows = ValueRows()
                            try rows.add(
                                change.refused, previous: change.values, rowid: rowid, kind: .user,
                                definition: sqlite.definitionLookup(db))
                            try sqlite.write(rows, db)
                            throw GraphError.badRequest("refused after writing")
                        }
                    }
                }
            }
        }
        if batched {
            let batch = try await store.sharingWrites { batch in
                try await batch.unit(0) { try await write() }
                return batch
            }
            #expect(batch.failedUnits.isEmpty)
        } else {
            try await write()
        }
        for change in changes { objects[change.index].1 = change.values }
    }

    func matchesReference(seed: UInt64, _ store: any DirectoryStore, batched: Bool = false) async throws {
        var rng = SplitMix64(state: seed)
        var objects: [(DirectoryObject, AttributeAssignments)] = []
        for index in 0..<250 {
            let object = user(index % 40)
            let values = Self.randomValues(&rng)
            try await store.create(object, passwordHash: nil) { _ in values }
            objects.append((object, values))
        }
        // A service principal with values must never appear in user queries or counts.
        let principal = DirectoryObject(kind: .servicePrincipal, id: UUID().uuidString.lowercased(), properties: JSONObject())
        try await store.create(principal, passwordHash: nil) { _ in
            AttributeAssignments([AssignedAttribute(definitionId: "Marketing_AppCountry", values: [.string("Canada")])])
        }

        func reference(_ predicate: ObjectPredicate?, reader: String? = nil) -> [String] {
            objects.filter { predicate?.matches($0.0, $0.1, reader: reader) ?? true }.map(\.0.id)
        }

        for _ in 0..<60 {
            let predicate = Self.randomPredicate(&rng)
            try await check(store, predicate, expected: reference(predicate), rng: &rng)
        }
        // Read by one of the users: its own values count as absent, in pages and counts alike.
        for _ in 0..<60 {
            let predicate = Self.randomPredicate(&rng)
            let reader = objects[Int.random(in: 0..<objects.count, using: &rng)].0.id
            try await check(store, predicate, reader: reader, expected: reference(predicate, reader: reader), rng: &rng)
        }
        // A reader of another kind changes nothing.
        let other = Self.randomPredicate(&rng)
        try await check(store, other, reader: principal.id, expected: reference(other), rng: &rng)

        // Change and delete some objects; counts and indexes must follow.
        try await change(store, &objects, batched: batched, rng: &rng)
        for _ in 0..<20 {
            let index = Int.random(in: 0..<objects.count, using: &rng)
            #expect(try await store.delete(.user, id: objects[index].0.id))
            objects.remove(at: index)
        }
        try await check(store, nil, expected: reference(nil), rng: &rng)
        for _ in 0..<60 {
            let predicate = Self.randomPredicate(&rng)
            try await check(store, predicate, expected: reference(predicate), rng: &rng)
        }

        // In display-name order, both ways: ties keep creation order (reversed when descending).
        func ordered(_ predicate: ObjectPredicate?, descending: Bool, reader: String?) -> [String] {
            let matching = objects.enumerated().filter {
                predicate?.matches($0.element.0, $0.element.1, reader: reader) ?? true
            }
            let sorted = matching.sorted { a, b in
                let (ka, kb) = ((a.element.0.displayName ?? "").lowercased(), (b.element.0.displayName ?? "").lowercased())
                return ka != kb ? ka < kb : a.offset < b.offset
            }
            let ids = sorted.map(\.element.0.id)
            return descending ? ids.reversed() : ids
        }
        for _ in 0..<30 {
            let predicate = Bool.random(using: &rng) ? Self.randomPredicate(&rng) : nil
            let descending = Bool.random(using: &rng)
            let reader = Bool.random(using: &rng) ? objects[Int.random(in: 0..<objects.count, using: &rng)].0.id : nil
            let pageSize = Int.random(in: 1...30, using: &rng)
            var seen: [String] = []
            var cursor: Int64?
            var sortKey: String?
            repeat {
                let (page, _) = try await store.query(
                    .user, matching: predicate, reader: reader, order: .displayName(descending: descending), after: cursor,
                    afterSortKey: sortKey, limit: pageSize, count: false, withAttributes: false)
                seen += page.objects.map(\.id)
                cursor = page.next
                sortKey = page.nextSortKey
            } while cursor != nil
            #expect(
                seen == ordered(predicate, descending: descending, reader: reader),
                "ordered rows for \(String(describing: predicate)) read by \(reader ?? "-")")
        }
    }

    /// An `or` of equalities on one attribute (a Conditional Access term's spellings) counts
    /// each object once: on a collection an object may hold two of the values, on a single value
    /// the terms' counts add up; a service principal holding a value is not counted for users.
    @Test func anOrOfEqualitiesOnOneAttributeCountsEachObjectOnce() async throws {
        let store = try await Self.makeStore()
        let employeeId = Self.definitions[0]
        let country = Self.definitions[1]
        let held: [(employeeId: String, countries: [String])] = [
            ("Baker", ["Baker", "baker"]), ("baker", ["BAKER"]), ("BAKER", ["Alpine"]), ("Alpine", ["baker", "Cascade"]),
        ]
        for (index, values) in held.enumerated() {
            try await store.create(user(index), passwordHash: nil) { _ in
                AttributeAssignments([
                    AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string(values.employeeId)]),
                    AssignedAttribute(definitionId: "Marketing_AppCountry", values: values.countries.map { .string($0) }),
                ])
            }
        }
        let principal = DirectoryObject(
            kind: .servicePrincipal, id: UUID().uuidString.lowercased(),
            properties: JSONObject([("displayName", .string("App")), ("appId", .string(UUID().uuidString.lowercased()))]))
        try await store.create(principal, passwordHash: nil) { _ in
            AttributeAssignments([AssignedAttribute(definitionId: "Marketing_AppCountry", values: [.string("baker")])])
        }
        func spellings(_ definition: AttributeDefinition, of word: String = "Baker") -> ObjectPredicate {
            [word.lowercased(), word.uppercased()].map { ObjectPredicate.attribute(definition, .equals(.string($0))) }
                .reduce(.attribute(definition, .equals(.string(word)))) { .or($0, $1) }
        }
        for (definition, expected) in [(employeeId, 3), (country, 3)] {
            let (page, count) = try await store.query(.user, matching: spellings(definition), after: nil, limit: 10, count: true)
            #expect(count == expected, "count for \(definition.id)")
            #expect(page.objects.count == expected, "page for \(definition.id)")
            // Combined with another term, the count takes the set algebra path.
            let combined = ObjectPredicate.and(spellings(definition), .not(.attribute(employeeId, .equals(.string("baker")))))
            #expect(try await store.query(.user, matching: combined, after: nil, limit: 10, count: true).count == expected - 1)
        }
        #expect(try await store.query(.servicePrincipal, matching: spellings(country), after: nil, limit: 10, count: true).count == 1)
        // One spelling held in a collection: the per-value count decides; a second spelling
        // joining on an object that holds the first must not count it twice.
        #expect(try await store.query(.user, matching: spellings(country, of: "Cascade"), after: nil, limit: 10, count: true).count == 1)
        try await store.create(user(held.count), passwordHash: nil) { _ in
            AttributeAssignments([AssignedAttribute(definitionId: "Marketing_AppCountry", values: [.string("Cascade"), .string("CASCADE")])])
        }
        #expect(try await store.query(.user, matching: spellings(country, of: "Cascade"), after: nil, limit: 10, count: true).count == 2)
    }

    /// From the prefix index (built by the first count) and from the maintained counts alike.
    @Test(arguments: [0, StoredValue.prefixCountRows])
    func prefixCountsFollowWrites(prefixCountRows: Int) async throws {
        let store = try await Self.makeStore(prefixCountRows: prefixCountRows)
        let employeeId = Self.definitions[0]
        let gs = ObjectPredicate.attribute(employeeId, .startsWith("GS"))
        var ids: [String] = []
        for index in 0..<30 {
            let object = user(index)
            ids.append(object.id)
            try await store.create(object, passwordHash: nil) { _ in
                AttributeAssignments([AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("GS\(index)")])])
            }
        }
        #expect(try await store.query(.user, matching: gs, after: nil, limit: 1, count: true).count == 30)
        // The index now exists (with prefixCountRows 0); these writes must update it.
        try await store.modify(.user, id: ids[0], passwordHash: nil) { state, _ in
            ObjectState(
                object: state.object,
                attributes: AttributeAssignments([
                    AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("KX1")])
                ]))
        }
        #expect(try await store.delete(.user, id: ids[1]))
        #expect(try await store.query(.user, matching: gs, after: nil, limit: 1, count: true).count == 28)
        #expect(
            try await store.query(.user, matching: .attribute(employeeId, .startsWith("KX")), after: nil, limit: 1, count: true)
                .count
                == 1)
        // A failed write leaves counts exact.
        await #expect(throws: GraphError.self) {
            try await store.modify(.user, id: ids[2], passwordHash: nil) { _, _ in throw GraphError.forbidden }
        }
        #expect(try await store.query(.user, matching: gs, after: nil, limit: 1, count: true).count == 28)
    }

    /// A `startsWith` count, its prefix index and a kept set read the value index without each
    /// row's object while only one kind holds the attribute, and with it once another kind does
    /// (built before and after the other kind's values arrive): a kind's answer holds its own
    /// objects only.
    @Test func prefixCountsAndKeptSetsHoldOnlyTheirKind() async throws {
        for keepingEverySet in [false, true] {
            for principalsFirst in [false, true] {
                let store = try await Self.makeStore(keepingEverySet: keepingEverySet)
                let employeeId = Self.definitions[0]
                let gs = ObjectPredicate.attribute(employeeId, .startsWith("GS"))
                let gsNotGS1 = ObjectPredicate.and(gs, .not(.attribute(employeeId, .equals(.string("GS1")))))
                for index in 0..<5 {
                    try await store.create(user(index), passwordHash: nil) { _ in
                        AttributeAssignments([AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("GS\(index)")])])
                    }
                }
                func addPrincipals() async throws {
                    for index in 0..<3 {
                        let principal = DirectoryObject(
                            kind: .servicePrincipal, id: UUID().uuidString.lowercased(),
                            properties: JSONObject([("displayName", .string("App")), ("appId", .string(UUID().uuidString.lowercased()))]))
                        try await store.create(principal, passwordHash: nil) { _ in
                            AttributeAssignments([AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("GS\(index)")])])
                        }
                    }
                }
                func counts() async throws -> [Int?] {
                    var counts: [Int?] = []
                    for kind in [DirectoryObjectKind.user, .servicePrincipal] {
                        for predicate in [gs, gsNotGS1] {
                            let (page, count) = try await store.query(kind, matching: predicate, after: nil, limit: 10, count: true)
                            #expect(page.objects.allSatisfy { $0.kind == kind })
                            counts.append(count)
                        }
                    }
                    return counts
                }
                let context = "keeping every set: \(keepingEverySet), principals first: \(principalsFirst)"
                if principalsFirst {
                    try await addPrincipals()
                } else {
                    #expect(try await counts() == [5, 4, 0, 0], "only users hold it; \(context)")
                    try await addPrincipals()
                }
                #expect(try await counts() == [5, 4, 3, 2], "both kinds hold it; \(context)")
            }
        }
    }

    @Test func sortedSetCountsPrefixesBytewise() {
        var list = SortedStrings(sorted: [])
        let values = (0..<3000).map { "GS\($0)" } + ["G", "GT", "Gs1", "GS", "é", "e"]
        for value in values.shuffled() { list.insert(value) }
        #expect(list.count == values.count)
        for prefix in ["GS", "GS1", "GS29", "G", "", "é", "x", "GS2999", "GS30000"] {
            #expect(list.count(prefix: prefix) == values.count { $0.utf8.starts(with: prefix.utf8) }, "\(prefix)")
        }
        let removed = list.remove("GS5")
        let removedAgain = list.remove("GS5")
        #expect(removed)
        #expect(!removedAgain)
        #expect(list.count(prefix: "GS5") == values.count { $0.hasPrefix("GS5") } - 1)
    }
}
