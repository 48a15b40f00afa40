import XCTest
import GencKernels

final class OpenBLASCoreTests: XCTestCase {
    static let cpuinfo = """
    processor\t: 0
    vendor_id\t: GenuineIntel
    model name\t: Intel(R) Xeon(R)
    flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512bw
    bugs\t\t: spectre_v1

    processor\t: 1
    flags\t\t: fpu sse sse2
    """

    func testFlagsParsing() {
        let flags = cpuFlags(fromCPUInfo: Self.cpuinfo)
        XCTAssert(flags.isSuperset(of: ["avx2", "avx512f", "fma", "sse2"]))
        XCTAssertFalse(flags.contains("spectre_v1"))
        XCTAssertEqual(cpuFlags(fromCPUInfo: "processor : 0\n"), [])
    }

    func testCoreTypeChoice() {
        XCTAssertEqual(recommendedOpenBLASCoreType(cpuInfo: Self.cpuinfo), "SkylakeX")
        XCTAssertEqual(recommendedOpenBLASCoreType(cpuFlags: ["sse2", "avx", "avx2"]), "Haswell")
        XCTAssertNil(recommendedOpenBLASCoreType(cpuFlags: ["sse2", "avx"]))
        XCTAssertNil(recommendedOpenBLASCoreType(cpuInfo: ""))
    }

    func testRuntimeQueries() {
        XCTAssertFalse(openBLASCoreName().isEmpty)
        XCTAssert(openBLASConfig().contains("OpenBLAS"))
        let before = openBLASThreadCount()
        setOpenBLASThreadCount(1)
        XCTAssertEqual(openBLASThreadCount(), 1)
        setOpenBLASThreadCount(before)
    }
}
