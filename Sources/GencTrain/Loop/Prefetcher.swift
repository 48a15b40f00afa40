import Foundation

/// Loads the next step's batches on a background thread while the current
/// step runs: `request(step)` starts filling, `wait()` returns when the
/// batches are in the host buffers. One buffer per stream suffices because
/// the loop copies a batch into the programs' inputs before it requests the
/// next one.
final class Prefetcher: @unchecked Sendable {
    struct Feed {
        let stream: DataStream
        let buffer: UnsafeMutableRawPointer
        let bytes: Int
    }

    let feeds: [Feed]
    let batchesPerEpoch: Int
    private let requested = DispatchSemaphore(value: 0)
    private let filled = DispatchSemaphore(value: 0)
    private var step = 0
    private var stopping = false
    private var thread: Thread?

    init(streams: [DataStream], batchesPerEpoch: Int) {
        feeds = streams.map { s in
            let bytes = max(s.elementsPerBatch * 4, 4)
            let b = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            b.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            return Feed(stream: s, buffer: b, bytes: bytes)
        }
        self.batchesPerEpoch = max(batchesPerEpoch, 1)
        guard !feeds.isEmpty else { return }
        // The thread holds the prefetcher until `stop` ends it.
        let t = Thread { self.work() }
        t.name = "genc-data"
        thread = t
        t.start()
    }

    deinit {
        for f in feeds { f.buffer.deallocate() }
    }

    private func work() {
        while true {
            requested.wait()
            if stopping { filled.signal(); return }
            let epoch = step / batchesPerEpoch, index = step % batchesPerEpoch
            for f in feeds { f.stream.fill(epoch: epoch, batch: index, into: f.buffer) }
            filled.signal()
        }
    }

    /// Starts loading the batches of global step `step`.
    func request(_ step: Int) {
        guard !feeds.isEmpty else { return }
        self.step = step
        requested.signal()
    }

    /// Waits for the requested batches.
    func wait() {
        guard !feeds.isEmpty else { return }
        filled.wait()
    }

    /// Ends the background thread (after the last request has been waited for).
    func stop() {
        guard !feeds.isEmpty, thread != nil else { return }
        stopping = true
        requested.signal()
        filled.wait()
        thread = nil
    }
}
