import Testing
import WardenCore
import WardenSpool

@Suite("Spool file formats")
struct SpoolFormatTests {
    func decode(_ name: String, _ text: String) -> Result<SpoolFormat.Decoded, RecordErrors> {
        SpoolFormat.decode(name: name, bytes: Array(text.utf8))
    }

    @Test func jsonObjectOrArray() throws {
        #expect(try decode("a.json", #"{"type":"order"}"#).get().count == 1)
        let lines = try decode("a.json", "[\n{\"a\":1},\n{\"b\":2}\n]").get().map(\.line)
        #expect(lines == [2, 3])
    }

    @Test func ndjsonSkipsBlankLinesAndAcceptsCRLF() throws {
        let values = try decode("a.ndjson", "{\"a\":1}\r\n\n{\"b\":2}\n").get()
        #expect(values.map(\.line) == [1, 3])
        #expect(try decode("a.jsonl", "{\"a\":1}").get().count == 1)
    }

    @Test func ndjsonReportsEveryBadLine() {
        guard case .failure(let e) = decode("a.ndjson", "{\"a\":1}\n{oops\n{\"b\":2}\n[\n") else {
            Issue.record("accepted")
            return
        }
        #expect(e.errors.map(\.line) == [2, 4])
        #expect(e.errors.map(\.record) == [2, 4])
    }

    @Test func csvOrdersWithTaobaoAliasesAndQuotes() throws {
        let csv = "tid,category,item,payment,pay_time,shop\r\n3398211045551234567,stand-mixer,\"Mixer, 5L \"\"Pro\"\"\",1299.00,2023-04-01 10:12:00,s1\r\n"
        let values = try decode("orders.csv", csv).get()
        #expect(values.count == 1)
        let o = try #require(values.first?.value.object)
        #expect(o["type"] == "order")
        #expect(o["tid"] == "3398211045551234567")
        #expect(o["item"] == "Mixer, 5L \"Pro\"")
        #expect(values.first?.line == 2)
        let record = try RecordParser(zone: .shanghai).parse(values[0].value).get()
        guard case .order(let order) = record.payload else { Issue.record("not an order"); return }
        #expect(order.paidAmount == Money(fen: 129_900))
    }

    @Test func csvRowWithTheWrongFieldCount() {
        guard case .failure(let e) = decode("o.csv", "order_id,category\nA,x,extra\n") else {
            Issue.record("accepted")
            return
        }
        #expect(e.errors.first?.line == 2)
    }

    @Test(arguments: [("a.xml", "unsupported file type"), ("a.json", "the file is empty"), ("b.json", "invalid JSON")])
    func rejects(name: String, fragment: String) {
        let text = name == "b.json" ? "{" : name == "a.json" ? "  \n" : "<x/>"
        guard case .failure(let e) = decode(name, text) else {
            Issue.record("accepted \(name)")
            return
        }
        #expect(e.errors.first?.message.contains(fragment) == true)
    }
}
