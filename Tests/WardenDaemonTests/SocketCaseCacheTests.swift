import Testing
import WardenCore
import WardenDaemon

/// The cache of serialized `case.get` answers never keeps what a commit changed.
@Suite("Socket case cache")
struct SocketCaseCacheTests {
    let shanghai = Zone.shanghai

    @Test func keepsAnswersUntilTheirCaseChanges() {
        let cache = CaseCache()
        cache.store("C1", zone: shanghai, bytes: Array("one".utf8), generation: cache.current)
        cache.store("C2", zone: shanghai, bytes: Array("two".utf8), generation: cache.current)
        #expect(cache.get("C1", zone: shanghai) == Array("one".utf8))
        cache.invalidate(["C1"])
        #expect(cache.get("C1", zone: shanghai) == nil)
        #expect(cache.get("C2", zone: shanghai) == Array("two".utf8))
        #expect(cache.get("C2", zone: .utc) == nil)  // encoded in another zone
    }

    @Test func aReadThatRacedACommitIsNotKept() {
        let cache = CaseCache()
        // Given a read that started (generation taken) before a commit changed C1
        let started = cache.current
        cache.invalidate(["C1"])
        // When it finishes with what it read (possibly the old state)
        cache.store("C1", zone: shanghai, bytes: Array("old".utf8), generation: started)
        // Then nothing is cached; a read started after the commit is
        #expect(cache.get("C1", zone: shanghai) == nil)
        cache.store("C1", zone: shanghai, bytes: Array("new".utf8), generation: cache.current)
        #expect(cache.get("C1", zone: shanghai) == Array("new".utf8))
    }

    @Test func staysBounded() {
        let cache = CaseCache(capacity: 160)
        for i in 0..<10_000 { cache.store("C\(i)", zone: shanghai, bytes: [1], generation: cache.current) }
        #expect(cache.count <= 160)
        #expect(cache.count > 0)
    }
}
