import Foundation
import GRDB
import SigilCore

/// How `SQLiteStore` reaches its database: through the transaction a batch keeps open when the
/// calling task runs inside `sharingWrites` on this store, else through GRDB's pool (or queue),
/// after `WriterGate` lets it. Every read and write of the store goes through here, so a
/// batch's own reads see its writes and other writers never run inside a batch's transaction.
struct SQLiteAccess: Sendable {
    let store: SQLiteStore

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if let scope = store.activeScope { return try await scope.read(body) }
        return try await readOutsideBatch(body)
    }

    /// A short read (one object, a page) on the calling thread. Handing it to GRDB's queue and
    /// resuming afterwards costs more than the read itself: two thread switches per request were
    /// a third of a point read's CPU. It takes one of `shortReaders` without waiting; when all are
    /// in use (or inside a batch, or on an in-memory store) it reads the ordinary way.
    func shortRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await shortRead(inTransaction: true, body)
    }

    /// A short read that is one statement (which SQLite runs on one snapshot by itself), with no
    /// transaction around it: `BEGIN` and `COMMIT` were 6% of a point read's server CPU.
    func statementRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await shortRead(inTransaction: false, body)
    }

    private func shortRead<T: Sendable>(inTransaction: Bool, _ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        guard store.activeScope == nil, let connection = store.shortReaders?.take() else { return try await read(body) }
        defer { store.shortReaders?.put(connection) }
        return try Self.readHere(connection, inTransaction: inTransaction, body)
    }

    /// GRDB's synchronous read (the async overload is preferred inside a task).
    private static func readHere<T>(_ connection: DatabaseQueue, inTransaction: Bool, _ body: (Database) throws -> T) throws -> T {
        try connection.unsafeRead { db in inTransaction ? try readTransaction(db, body) : try body(db) }
    }

    /// `body` in a deferred read transaction (one snapshot for all its statements) begun and
    /// ended with cached statements: GRDB's own read compiles `BEGIN` and `COMMIT` again for
    /// every read, 2.6% of a filtered page's CPU at 1,000,000 users.
    static func readTransaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
        do {
            let value = try body(db)
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return value
        } catch {
            if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
            throw error
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if let scope = store.activeScope { return try await scope.write(body) }
        try await store.gate.enter(store)
        defer { store.gate.leave() }
        return try await store.groupCommit.write(store, body)
    }

    func readOutsideBatch<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        // A queue (in-memory store) reads on the writer's connection, so it waits like a writer.
        guard store.readsOnWriter else { return try await store.pool.unsafeRead { db in try Self.readTransaction(db, body) } }
        try await store.gate.enter(store)
        defer { store.gate.leave() }
        return try await store.pool.read(body)
    }
}

extension SQLiteStore {
    /// Runs `body` on the writer connection, on the calling thread when the connection is idle.
    func onWriter<T>(_ body: (Database) throws -> T) rethrows -> T {
        try pool.writeWithoutTransaction(body)
    }

    /// The batch scope the current task runs in, when it is this store's.
    var activeScope: SQLiteWriteScope? {
        guard let scope = SQLiteWriteScope.current, scope.store === self else { return nil }
        return scope
    }

    public func sharingWrites<T: Sendable>(_ body: @Sendable (WriteBatch) async throws -> T) async throws -> T {
        // A batch inside a batch (not reachable from the API) shares the outer one's transactions.
        if let scope = activeScope { return try await body(scope.batch) }
        let scope = SQLiteWriteScope(store: self, batch: WriteBatch())
        do {
            let result = try await SQLiteWriteScope.$current.withValue(scope) { try await body(scope.batch) }
            await scope.end(commit: true)
            return result
        } catch {
            await scope.end(commit: false)
            throw error
        }
    }
}

/// One batch's shared write transactions on a `SQLiteStore` (`DirectoryStore.sharingWrites`).
///
/// The first write of the batch takes the store's `WriterGate` and begins a transaction on the
/// writer connection, which stays open between the batch's accesses; each access runs at once
/// on the calling thread (the connection is idle, so GRDB needs no hand-over to its queue).
/// Each write runs in a savepoint of its own: a write that throws rolls back to its savepoint,
/// leaving the batch's other writes alone. Reads of the batch run in the same transaction while
/// it is open, so they see its writes. The transaction commits when the batch ends, or earlier
/// when another writer has waited for it while the batch left it idle for `idle` (a batch that
/// does slow work between writes, such as hashing a password, holds no one back for long).
///
/// The in-memory structures kept in step with writes (`ValueSets`, `PrefixIndexes`) take a
/// write's changes only when its savepoint is released, so a rolled-back write never reaches
/// them; a transaction that does not commit drops them (they are rebuilt from the database).
/// The access version and the schema and rules caches, which other tasks read before the commit,
/// are moved again after it, so nothing cached from the old state outlives the change.
final class SQLiteWriteScope: Sendable {
    @TaskLocal static var current: SQLiteWriteScope?

    let store: SQLiteStore
    let batch: WriteBatch

    private struct State {
        var transactions = 0
        var bumpsAccessVersion = false
        var invalidatesSchema = false
        var invalidatesRules = false
    }

    private let state = Locked(State())
    /// The batch's requests may run side by side; their accesses take turns, in arrival order.
    private let accesses = TurnTaking()

    init(store: SQLiteStore, batch: WriteBatch) {
        self.store = store
        self.batch = batch
    }

    /// The access version and the schema cache are moved now (so this batch's next request
    /// re-reads them) and again after the transaction ends.
    func accessChanged() {
        state.withLock { $0.bumpsAccessVersion = true }
    }

    func schemaChanged() {
        state.withLock { $0.invalidatesSchema = true }
    }

    func rulesChanged() {
        state.withLock { $0.invalidatesRules = true }
    }

    /// Whether a write of this batch changed the schema (read from the transaction from then on).
    var changesSchema: Bool { state.withLock { $0.invalidatesSchema } }
    /// Whether a write of this batch changed an access rule (likewise).
    var changesRules: Bool { state.withLock { $0.invalidatesRules } }

    /// A read takes a turn only to use the batch's open transaction: while the batch has none,
    /// its requests' reads (filters among them) run side by side outside it.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        await accesses.acquire()
        let open: OpenTransaction?
        do {
            open = try await store.gate.use(for: self, starting: false)
        } catch {
            accesses.release()
            throw error
        }
        guard let open else {
            accesses.release()
            return try await store.writer.readOutsideBatch(body)
        }
        defer {
            store.gate.done(open)
            accesses.release()
        }
        batch.touched(open.number)
        return try store.onWriter { db in try body(db) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        await accesses.acquire()
        defer { accesses.release() }
        guard let open = try await store.gate.use(for: self, starting: true) else { throw TransactionLost() }
        defer { store.gate.done(open) }
        batch.touched(open.number)
        let result = Result { () throws -> T in try store.onWriter { db in try store.inSavepoint(db, body) } }
        // SQLite rolls a whole transaction back on some errors (a full disk, an I/O error, an
        // interrupt): the batch's earlier writes in it are gone.
        if case .failure = result, !store.onWriter({ $0.isInsideTransaction }) { store.gate.lose(open) }
        return try result.get()
    }

    /// A number for the batch's next transaction.
    func nextTransaction() -> Int {
        state.withLock { state in
            state.transactions += 1
            return state.transactions
        }
    }

    /// Ends the open transaction (commit or roll back) and releases the gate.
    func end(commit: Bool) async {
        await store.gate.end(self, commit: commit)
        afterTransaction()
    }

    /// Moves what other tasks may have cached from the state before this batch's changes.
    func afterTransaction() {
        let (access, schema, rules) = state.withLock { ($0.bumpsAccessVersion, $0.invalidatesSchema, $0.invalidatesRules) }
        if access { store.bumpAccessVersion() }
        if schema { store.invalidateSchemaCache() }
        if rules { store.invalidateRulesCache() }
    }
}

/// One at a time, in arrival order, without polling: the tasks of a batch's requests wait here
/// for the connection while another of them uses it.
final class TurnTaking: Sendable {
    private let state = Locked((taken: false, waiting: [CheckedContinuation<Void, Never>]()))

    func acquire() async {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.taken else {
                    state.taken = true
                    return true
                }
                state.waiting.append(turn)
                return false
            }
            if now { turn.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.taken = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}

/// A batch's transaction open on the writer connection.
final class OpenTransaction: Sendable {
    let number: Int
    let scope: SQLiteWriteScope
    private let state = Locked((busy: false, lastUse: ContinuousClock.now, lost: false))

    init(number: Int, scope: SQLiteWriteScope) {
        self.number = number
        self.scope = scope
    }

    var isLost: Bool { state.withLock { $0.lost } }
    func markLost() { state.withLock { $0.lost = true } }

    /// Claims the connection for one access; false when it is in use.
    func claim() -> Bool {
        state.withLock { state in
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
    }

    func release() {
        state.withLock { state in
            state.busy = false
            state.lastUse = .now
        }
    }

    /// Claims it when no access is running and none has for `idle`.
    func claimIfIdle(for idle: Duration) -> Bool {
        state.withLock { state in
            guard !state.busy, ContinuousClock.now - state.lastUse >= idle else { return false }
            state.busy = true
            return true
        }
    }
}

/// Who may use the writer connection: ordinary accesses (each its own transaction, through
/// GRDB's queue), or one batch keeping a transaction open on it between its accesses. A batch
/// waits until the ordinary accesses under way have finished; ordinary accesses wait while a
/// batch's transaction is open, and commit it themselves once the batch has left it idle for
/// `idle`, so that slow work inside a batch cannot hold them back. Neither side starves the
/// other: while a batch waits no new ordinary access starts, and when a batch's transaction ends
/// with ordinary accesses waiting, they go before the next batch opens one (without that turn, a
/// steady stream of batches kept the notification dispatcher's writes out for as long as it
/// lasted).
final class WriterGate: Sendable {
    let idle: Duration
    private struct State {
        var ordinary = 0
        var open: OpenTransaction?
        /// Batches waiting to open a transaction: no new ordinary access starts meanwhile.
        var batchesWaiting: Set<ObjectIdentifier> = []
        /// Ordinary accesses waiting to start.
        var ordinaryWaiting = 0
        /// Set when a batch's transaction ends while ordinary accesses wait: they start before
        /// any batch opens another transaction.
        var ordinaryTurn = false

        mutating func transactionEnded(_ ended: OpenTransaction) {
            guard open === ended else { return }
            open = nil
            if ordinaryWaiting > 0 { ordinaryTurn = true }
        }

        mutating func stopWaiting() {
            ordinaryWaiting -= 1
            if ordinaryWaiting == 0 { ordinaryTurn = false }
        }
    }

    private let state = Locked(State())

    init(idle: Duration) {
        self.idle = idle
    }

    /// How often a waiter looks again: waiting happens only while a batch and other writers
    /// meet.
    static let poll = Duration.microseconds(200)

    /// Waits until an ordinary access may use the connection.
    func enter(_ store: SQLiteStore) async throws {
        enum Step {
            case entered
            case commitIdle(OpenTransaction)
            case wait
        }
        var waiting = false
        defer { if waiting { state.withLock { $0.stopWaiting() } } }
        while true {
            let step = state.withLock { state -> Step in
                if state.open == nil, state.batchesWaiting.isEmpty || state.ordinaryTurn {
                    state.ordinary += 1
                    return .entered
                }
                if let open = state.open, open.claimIfIdle(for: idle) { return .commitIdle(open) }
                if !waiting {
                    waiting = true
                    state.ordinaryWaiting += 1
                }
                return .wait
            }
            switch step {
            case .entered: return
            case .commitIdle(let open): finish(open, commit: true, store: store)
            case .wait: try await Task.sleep(for: Self.poll)
            }
        }
    }

    func leave() {
        state.withLock { $0.ordinary -= 1 }
    }

    /// The batch's open transaction, claimed for one access; opens one when `starting` and the
    /// batch has none. Nil when the batch has none and `starting` is false.
    func use(for scope: SQLiteWriteScope, starting: Bool) async throws -> OpenTransaction? {
        enum Step {
            case use(OpenTransaction)
            case begin(OpenTransaction)
            case none
            case wait
        }
        let waiter = ObjectIdentifier(scope)
        defer { state.withLock { _ = $0.batchesWaiting.remove(waiter) } }
        while true {
            let step = state.withLock { state -> Step in
                if let open = state.open {
                    if open.scope === scope { return open.claim() ? .use(open) : .wait }
                    guard starting else { return .none }
                    state.batchesWaiting.insert(waiter)
                    return .wait
                }
                guard starting else { return .none }
                guard state.ordinary == 0, !state.ordinaryTurn else {
                    state.batchesWaiting.insert(waiter)
                    return .wait
                }
                let open = OpenTransaction(number: scope.nextTransaction(), scope: scope)
                _ = open.claim()
                state.open = open
                state.batchesWaiting.remove(waiter)
                return .begin(open)
            }
            switch step {
            case .use(let open):
                return open
            case .begin(let open):
                do {
                    try scope.store.onWriter { db in try db.beginTransaction(.immediate) }
                    scope.store.heldSchema.withLock { $0 = (true, nil) }
                } catch {
                    scope.batch.failed(open.number, error)
                    state.withLock { $0.transactionEnded(open) }
                    open.release()
                    throw error
                }
                return open
            case .none:
                return nil
            case .wait:
                try await Task.sleep(for: Self.poll)
            }
        }
    }

    func done(_ open: OpenTransaction) {
        open.release()
    }

    /// SQLite rolled the transaction back by itself: it is over, and failed.
    func lose(_ open: OpenTransaction) {
        open.markLost()
        open.scope.batch.failed(open.number, TransactionLost())
        open.scope.store.forgetUncommittedState()
        open.scope.store.heldSchema.withLock { $0 = (false, nil) }
        state.withLock { $0.transactionEnded(open) }
    }

    /// Ends the batch's open transaction, if it has one (an idle commit may have ended it).
    func end(_ scope: SQLiteWriteScope, commit: Bool) async {
        while true {
            let claimed = state.withLock { state -> (OpenTransaction?, Bool) in
                guard let open = state.open, open.scope === scope else { return (nil, true) }
                return open.claim() ? (open, true) : (nil, false)
            }
            if let open = claimed.0 {
                finish(open, commit: commit, store: scope.store)
                return
            }
            if claimed.1 { return }
            // An idle commit is under way: it ends the transaction.
            try? await Task.sleep(for: Self.poll)
        }
    }

    /// Commits or rolls back a claimed open transaction and lets others use the connection.
    private func finish(_ open: OpenTransaction, commit: Bool, store: SQLiteStore) {
        do {
            try store.onWriter { db in
                guard db.isInsideTransaction else { throw TransactionLost() }
                do {
                    if commit {
                        try db.commit()
                        store.committed()
                    } else {
                        try db.rollback()
                    }
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    throw error
                }
            }
            if !commit { throw TransactionRolledBack() }
        } catch {
            open.scope.batch.failed(open.number, error)
            store.forgetUncommittedState()
        }
        store.heldSchema.withLock { $0 = (false, nil) }
        state.withLock { $0.transactionEnded(open) }
        open.release()
        open.scope.afterTransaction()
    }
}

/// SQLite rolled the batch's transaction back by itself.
struct TransactionLost: Error, CustomStringConvertible {
    var description: String { "the database rolled the transaction back" }
}

/// The batch ended with an error, so its open transaction was rolled back.
struct TransactionRolledBack: Error, CustomStringConvertible {
    var description: String { "the batch ended with an error; its open transaction was rolled back" }
}

extension SQLiteStore {
    /// One write of a shared transaction (a batch's, or a group's of ordinary writes) in a
    /// savepoint of its own: a write that throws rolls back to it and nothing else. Its changes to
    /// the value sets and prefix indexes are held while it runs and applied once the savepoint is
    /// released, so a rolled-back write never reaches them. When SQLite has ended the whole
    /// transaction (a full disk, an I/O error, an interrupt), there is no savepoint left to roll
    /// back to; the caller sees `db.isInsideTransaction` false.
    func inSavepoint<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        pendingMemoryChanges.withLock { $0 = PendingMemoryChanges() }
        defer { pendingMemoryChanges.withLock { $0 = nil } }
        do {
            // Cached statements: compiling them again for every write of a batch shows.
            try db.cachedStatement(sql: "SAVEPOINT shared_write").execute()
            let result = try body(db)
            try db.cachedStatement(sql: "RELEASE shared_write").execute()
            if let changes = pendingMemoryChanges.withLock({ $0 }) { apply(changes) }
            return result
        } catch {
            if db.isInsideTransaction {
                try? db.cachedStatement(sql: "ROLLBACK TO shared_write").execute()
                try? db.cachedStatement(sql: "RELEASE shared_write").execute()
            }
            throw error
        }
    }
}

extension SQLiteStore {
    /// The only write of its transaction: its changes to the value sets and prefix indexes are
    /// held while it runs and applied once it returns; when it throws, the caller rolls the
    /// transaction back and they never reach them.
    func withoutSavepoint<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        pendingMemoryChanges.withLock { $0 = PendingMemoryChanges() }
        defer { pendingMemoryChanges.withLock { $0 = nil } }
        let result = try body(db)
        if let changes = pendingMemoryChanges.withLock({ $0 }) { apply(changes) }
        return result
    }
}

/// A write's changes to the in-memory structures, held until its savepoint is released.
struct PendingMemoryChanges: Sendable {
    var valueSets: [ValueSets.Change] = []
    var prefixes: [ValueRows.PrefixChange] = []

    var isEmpty: Bool { valueSets.isEmpty && prefixes.isEmpty }
}
