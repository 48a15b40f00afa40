// RandomNaive.swift — one element of a random stream at a time, straight
// from the definition in Random.swift (no blocks, no threads).

/// Element `index` of the uniform [0, 1) stream `seed`.
public func uniformAt(seed: UInt64, index: UInt64) -> Float {
    unitFloat(philoxBlock(seed: seed, block: index / 4)[Int(index % 4)])
}

/// Element `index` of the standard normal stream `seed`.
public func normalAt(seed: UInt64, index: UInt64) -> Float {
    boxMuller(philoxBlock(seed: seed, block: index / 4), lane: Int(index % 4))
}
