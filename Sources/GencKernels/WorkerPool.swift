// WorkerPool.swift — genc's own worker threads: a job of N tasks runs task 0
// on the caller and task k on worker k, and returns when all are done.
//
// Why not Dispatch: `concurrentPerform` wakes a pooled thread through the
// kernel for every call, which costs tens of microseconds, and a training
// step makes hundreds of parallel calls whose work is only tens of
// microseconds each (split GEMMs of batch 64, elementwise loops of 100k
// floats). Workers here spin on an atomic generation counter for a while
// after each job (about a tenth of a millisecond), so the next job starts in
// well under a microsecond; then they sleep on a condition variable and cost
// nothing. Tasks are assigned by index, never stolen, so which thread runs a
// task never changes what it computes.
//
// A job is a `ParallelTasks` value, handed to the workers by address with
// its type, not a closure: a closure handed to another thread must be made
// escaping, and Swift allocates that wrapper on the heap on every job.
//
// A job posted while another is running (a nested parallel loop, or a second
// thread calling in) runs its tasks in order on the calling thread: the same
// tasks, the same results, no deadlock.

import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Work cut into numbered tasks: task t is `run(task: t)`.
protocol ParallelTasks {
    /// Must be safe to run concurrently for different tasks.
    func run(task: Int)
}

final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Bumped once per job; workers run the job whose generation they see.
    private let generation = Atomic<Int>(0)
    /// Workers that finished the current job (all workers acknowledge every
    /// job, so none can still be reading one when the next is posted).
    private let acknowledged = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The job, by address and type: written by the caller before
    /// `generation` is bumped, valid until every worker has acknowledged.
    private var job: UnsafeRawPointer?
    /// Runs one task of the job at `job`: the `run(task:)` of its type,
    /// specialized (a closure made inside the specialized `run`, with no
    /// captures, so no context to allocate).
    private var perform: (UnsafeRawPointer, Int) -> Void = { _, _ in }
    private var taskCount = 0
    /// Worker threads started so far (task k + 1 runs on worker k).
    private var workers = 0
    // Allocated, not stored inline: pthread objects must not move.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Spins of a worker waiting for the next job before it sleeps.
    private static let spinLimit = 1 << 17

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `tasks.run(task: 0) … tasks.run(task: count - 1)`, task 0 on
    /// this thread and the others on workers, and returns when all have
    /// returned. Allocates nothing.
    func run<Tasks: ParallelTasks>(_ count: Int, _ tasks: Tasks) {
        if count <= 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for t in 0..<count { tasks.run(task: t) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        if !grow(to: count - 1) {
            for t in 0..<count { tasks.run(task: t) }
            return
        }
        withUnsafePointer(to: tasks) { address in
            job = UnsafeRawPointer(address)
            perform = { job, task in job.assumingMemoryBound(to: Tasks.self).pointee.run(task: task) }
            taskCount = count
            acknowledged.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            address.pointee.run(task: 0)
            var spins = 0
            while acknowledged.load(ordering: .acquiring) < workers {
                spins += 1
                if spins > 1 << 12 { sched_yield() }
            }
            job = nil
        }
    }

    /// Starts workers until there are `count`; false if a thread could not be made.
    private func grow(to count: Int) -> Bool {
        while workers < count {
            let index = workers + 1
            let context = Unmanaged.passRetained(WorkerStart(pool: self, task: index, seen: generation.load(ordering: .acquiring)))
            var thread = pthread_t()
            let made = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.work(task: start.task, seen: start.seen)
            }, context.toOpaque())
            if made != 0 {
                context.release()
                return false
            }
            pthread_detach(thread)
            workers += 1
        }
        return true
    }

    private func work(task: Int, seen: Int) -> Never {
        var seen = seen
        while true {
            var current = generation.load(ordering: .acquiring)
            var spins = 0
            while current == seen, spins < Self.spinLimit {
                spins += 1
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen {
                    pthread_cond_wait(wake, mutex)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if task < taskCount, let job { perform(job, task) }
            acknowledged.add(1, ordering: .releasing)
        }
    }
}

private final class WorkerStart {
    let pool: WorkerPool
    let task: Int
    let seen: Int
    init(pool: WorkerPool, task: Int, seen: Int) {
        self.pool = pool
        self.task = task
        self.seen = seen
    }
}
