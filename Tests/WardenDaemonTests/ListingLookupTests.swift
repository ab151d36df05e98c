import Testing

@testable import WardenDaemon

/// The listing a stored order or complaint names (`FactReader.listingId`): bodies that
/// cannot name one are not parsed, and every spelling of the key that JSON allows is
/// still found.
@Suite("Listing named by a stored body")
struct ListingLookupTests {
    @Test(arguments: [
        (#"{"type":"order","order_id":"O1"}"#, nil),
        (#"{"type":"order","order_id":"O1","listing_id":"L1"}"#, "L1"),
        (#"{"type":"order","listing_id" : "L 2","order_id":"O1"}"#, "L 2"),
        (#"{"type":"order","order_id":"O1","listing\u005fid":"L3"}"#, "L3"),  // an escaped key
        (#"{"type":"order","order_id":"O1","listing_id":7}"#, nil),  // not a string
        (#"{"type":"order","order_id":"O1","extra":{"listing_id":"L4"}}"#, nil),  // not at the top level
        (#"{"type":"order","order_id":"O1","note":"see \"listing_id\":\"L5\""}"#, nil),  // inside a string
        (#"{"type":"order","order_id":"O1","listing_id":"L\u0036"}"#, "L6"),  // an escaped value
        (#"not json "listing_id""#, nil),
    ] as [(String, String?)])
    func listingIdOfABody(body: String, expected: String?) {
        #expect(FactReader.listingId(body) == expected)
    }
}
