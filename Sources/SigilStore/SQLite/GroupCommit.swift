import Foundation
import GRDB
import SigilCore

/// Ordinary writes that wait for SQLite's single writer commit together: while one group is
/// being written, the writes that arrive queue up, and the next group runs them in one
/// transaction, each in a savepoint of its own (a write alone needs none), and commits once. A
/// write is answered only after the commit that holds it, so every acknowledged write is as
/// durable as one committed alone; a write that fails rolls back to its savepoint and leaves the
/// others of its group alone.
///
/// One write per transaction spent most of the writer's time on what every transaction costs
/// (the hand-over to GRDB's queue, `BEGIN`, the commit's WAL frames for pages that every write
/// touches, such as the maintained counts and the audit chain's tail), so 32 clients sending
/// `PATCH`es queued behind one another.
///
/// A write's changes to the in-memory value sets and prefix indexes are held until its savepoint
/// is released (a refused write never reaches them); when a commit fails, they are dropped and
/// rebuilt from the database, as after a failed batch.
final class GroupCommit: Sendable {
    struct Job: Sendable {
        /// Runs the write's body on the writer connection, keeping its value.
        let run: @Sendable (Database) throws -> Void
        /// Answers the waiting write: nil once its group committed, else why it failed.
        let settle: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Job] = []
        var draining = false
    }

    private let state = Locked(State())

    /// Runs `body` in the next group and returns its value once the group has committed.
    func write<T: Sendable>(_ store: SQLiteStore, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let write = GroupedWrite<T>()
        let job = Job(run: { db in try write.run(body, db) }, settle: { write.settle($0) })
        let starts = state.withLock { state -> Bool in
            state.pending.append(job)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        // The groups are written by a task of their own, so no request's answer waits for the
        // groups that arrive after its own. It holds the store only while a group is written:
        // a store released by its owner closes its connections then, not when this task ends
        // (a connection closing late, as the file's last, locked it against the next opener).
        if starts {
            let owner = WeakSQLiteStore(store)
            Task { await self.drain(owner) }
        }
        return try await write.value()
    }

    /// The writes waiting now, as one group; nil (and no longer draining) when none wait.
    private func nextGroup() -> [Job]? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.draining = false
                return nil
            }
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    private func drain(_ owner: WeakSQLiteStore) async {
        while let group = nextGroup() {
            for (job, error) in await Self.write(group, owner.store) { job.settle(error) }
        }
    }

    /// Each write of `group` with nil once committed, or why it failed.
    private static func write(_ group: [Job], _ store: SQLiteStore?) async -> [(Job, (any Error)?)] {
        // Every waiting write's caller holds the store, so it is there while writes wait.
        guard let store else { return group.map { ($0, TransactionLost()) } }
        do {
            return try await store.pool.writeWithoutTransaction { db in commit(group, db, store) }
        } catch {
            // The writer connection could not be reached (a closed database): nothing ran.
            return group.map { ($0, error) }
        }
    }

    /// Writes one group: a transaction for all of it, unless a write's failure ends the
    /// transaction (SQLite rolls a whole transaction back on a full disk, an I/O error or an
    /// interrupt), which fails the writes already in it and starts another for the rest.
    static func commit(_ group: [Job], _ db: Database, _ store: SQLiteStore) -> [(Job, (any Error)?)] {
        var outcomes: [(Job, (any Error)?)] = []
        var next = 0
        while next < group.count {
            do {
                try db.beginTransaction(.immediate)
            } catch {
                return outcomes + group[next...].map { ($0, error) }
            }
            if next == 0, group.count == 1, let job = group.first {
                next = 1
                // Alone in its transaction, a write needs no savepoint: its failure rolls back
                // the transaction. Under a savepoint SQLite also journals, for every statement
                // that changes a page, a copy of each page first changed since the savepoint,
                // and ending a statement walks that in-memory journal from its start: a write of
                // thousands of objects (`createAll`) went quadratic (`docs/architecture.md`).
                do {
                    try store.withoutSavepoint(db, job.run)
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    outcomes.append((job, error))
                    continue
                }
                do {
                    try db.commit()
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    store.forgetUncommittedState()
                    outcomes.append((job, error))
                    continue
                }
                store.committed()
                outcomes.append((job, nil))
                continue
            }
            var written: [Job] = []
            var ended: (any Error)?
            while next < group.count, ended == nil {
                let job = group[next]
                next += 1
                do {
                    try store.inSavepoint(db, job.run)
                    written.append(job)
                } catch {
                    if !db.isInsideTransaction { ended = error }
                    outcomes.append((job, error))
                }
            }
            do {
                if let ended { throw ended }
                try db.commit()
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                store.forgetUncommittedState()
                outcomes += written.map { ($0, error) }
                continue
            }
            store.committed()
            outcomes += written.map { ($0, nil) }
        }
        return outcomes
    }
}

/// One write waiting in a group: its value once its body ran, its outcome once the group ended.
private final class GroupedWrite<T: Sendable>: Sendable {
    private struct State {
        var value: T?
        var outcome: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }

    private let state = Locked(State())

    func run(_ body: (Database) throws -> T, _ db: Database) throws {
        let value = try body(db)
        state.withLock { $0.value = value }
    }

    func settle(_ error: (any Error)?) {
        let (waiter, outcome) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Result<T, any Error>) in
            let outcome: Result<T, any Error> =
                if let error { .failure(error) } else if let value = state.value { .success(value) } else {
                    .failure(TransactionLost())
                }
            state.outcome = outcome
            defer { state.waiter = nil }
            return (state.waiter, outcome)
        }
        waiter?.resume(with: outcome)
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> Result<T, any Error>? in
                if state.outcome == nil { state.waiter = continuation }
                return state.outcome
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }
}

/// The store a group's writer task works for, without keeping it alive.
private final class WeakSQLiteStore: Sendable {
    weak let store: SQLiteStore?

    init(_ store: SQLiteStore) {
        self.store = store
    }
}
