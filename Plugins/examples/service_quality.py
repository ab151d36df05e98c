#!/usr/bin/env python3
"""Shop-wide customer-service rules S1-S3 (RULES.md section 4) as an external Warden
module, on the helper in Plugins/sdk/python. It gives the decisions of the built-in
service-quality module (Tests: the same rule table, and the same cases, ledger and
findings through the daemon).

    [policies.service-quality]
    exec = "/usr/share/doc/warden/examples/plugins/service_quality.py"

- S1/S2: chat satisfaction (satisfied / ratings) at least 70 %, assessed only with at
  least 30 ratings; 3-minute response rate (answered / rounds) at least 90 %, assessed
  only with at least 100 rounds; compared exactly in integers. Months before 2022-09
  were the trial: not assessed.
- S3: a month failing either figure books 4 A-class points (rule S3, amount 0.00) once
  per shop and month, dated at the month's start, and records a finding.
"""
import datetime
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sdk", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # installed side by side
from warden_plugin import Module, run, param, record_type, book, finding  # noqa: E402

try:
    from zoneinfo import ZoneInfo
except ImportError:  # Python < 3.9
    ZoneInfo = None

ASSESSED_FROM = "2022-09"


def percent(a, b):
    """As the built-in module writes it: one decimal, halves away from zero."""
    return "%s%%" % (math.floor(a / b * 1000 + 0.5) / 10)


class ServiceQuality(Module):
    name = "All shops: monthly chat satisfaction and 3-minute response rate, 4 A-class points per failed month (S1-S3), in Python"
    version = "1.0.0"
    categories = []
    parameters = [
        param("min_satisfaction_percent", "integer", 70, "S1 satisfaction threshold"),
        param("min_response_percent", "integer", 90, "S1 3-minute response-rate threshold"),
        param("min_ratings", "integer", 30, "fewer ratings: satisfaction not assessed"),
        param("min_rounds", "integer", 100, "fewer buyer rounds: response rate not assessed"),
        param("points", "integer", 4, "A-class points per failed month (S3)"),
    ]
    record_types = [record_type("chat-metrics", ["shop", "month"], {
        "shop": ("id", True), "month": ("month", True), "ratings": ("count", True),
        "satisfied_ratings": ("count", True), "rounds": ("count", True),
        "rounds_answered_within_3min": ("count", True)})]

    def initialize(self, params, timezone):
        super().initialize(params, timezone)
        for p in self.parameters:
            value = params.get(p["name"], p["default"])
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("%s must be a non-negative integer" % p["name"])
            setattr(self, p["name"], value)
        if self.min_satisfaction_percent > 100 or self.min_response_percent > 100:
            raise ValueError("percentages are at most 100")
        self.zone = ZoneInfo(timezone) if ZoneInfo and timezone else datetime.timezone(datetime.timedelta(hours=8))

    def assess(self, m):
        """(satisfaction passed, response passed, trial); None: not assessed."""
        if m["month"] < ASSESSED_FROM:
            return None, None, True
        satisfaction = None
        if m["ratings"] >= self.min_ratings:
            satisfaction = m["satisfied_ratings"] * 100 >= self.min_satisfaction_percent * m["ratings"]
        response = None
        if m["rounds"] >= self.min_rounds:
            response = m["rounds_answered_within_3min"] * 100 >= self.min_response_percent * m["rounds"]
        return satisfaction, response, False

    def on_record(self, record, facts):
        if record.get("type") != "chat-metrics":
            return []
        satisfaction, response, _ = self.assess(record)
        if satisfaction is not False and response is not False:
            return []
        year, month = (int(x) for x in record["month"].split("-"))
        at = datetime.datetime(year, month, 1, tzinfo=self.zone)
        why = []
        if satisfaction is False:
            why.append("satisfaction %s < %d%%" % (percent(record["satisfied_ratings"], record["ratings"]), self.min_satisfaction_percent))
        if response is False:
            why.append("3-minute response rate %s < %d%%" % (percent(record["rounds_answered_within_3min"], record["rounds"]), self.min_response_percent))
        message = "%s failed: %s; A-class deduction of %d points" % (record["month"], ", ".join(why), self.points)
        key = "S3:%s:%s" % (record["shop"], record["month"])
        return [book("S3", "0.00", at, key, message, points=self.points, shop=record["shop"]),
                finding("S3", "shop:" + record["shop"], "violation", message, at, key)]


if __name__ == "__main__":
    run(ServiceQuality())
