import Foundation
import WardenCore

/// Record files for the end-to-end tests, with times relative to now.
enum Fixtures {
    static func utc(_ t: Timestamp) -> String { TimeFormat.format(t, in: .utc) }

    static func now() -> Timestamp { SystemClock().now() }

    static func order(_ id: String, mode: String = "merchant", category: String = "stand-mixer") -> String {
        #"{"type":"order","order_id":"\#(id)","category":"\#(category)","item":"mixer","shop":"demo","paid_amount":"1299.00","paid_at":"2023-04-01 10:12:00","delivery_service":"\#(mode)"}"#
    }

    static func complaint(_ id: String, order: String, openedAt: Timestamp) -> String {
        #"{"type":"complaint","complaint_id":"\#(id)","order_id":"\#(order)","reason":"not-delivered-to-door","opened_at":"\#(utc(openedAt))"}"#
    }
}
