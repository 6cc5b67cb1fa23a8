import FluentKit
import Foundation

/// One of Bufdir's counting rules for one reporting year, kept as data because the rules change between years.
///
/// Examples of `rule_key` with their `parameters` JSON: `group_activity` `{"min_participants":3,"min_minutes":45}`,
/// `mentor_training` `{"min_minutes":90}`, `one_to_one` `{"requires_meeting":true}`, `countries` `{"allowed":["NO"]}`,
/// `scoring` `{"per":"day"}`, `small_cell_suppression` `{"min_people":5}`. `valid_from` is a calendar date
/// `yyyy-MM-dd`.
final class BufdirCountingRule: Model, @unchecked Sendable {
    static let schema = "bufdir_counting_rules"

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // data

    @Field(key: "reporting_year")
    var reportingYear: Int

    @Field(key: "rule_key")
    var ruleKey: String

    @Field(key: "parameters")
    var parameters: String

    @Field(key: "valid_from")
    var validFrom: String

    /// Where the rule comes from (guide and section), for people reading the data.
    @OptionalField(key: "source")
    var source: String?

    init() {}

    init(
        id: UUID? = nil,
        reportingYear: Int,
        ruleKey: String,
        parameters: String,
        validFrom: String,
        source: String? = nil
    ) {
        self.id = id
        self.reportingYear = reportingYear
        self.ruleKey = ruleKey
        self.parameters = parameters
        self.validFrom = validFrom
        self.source = source
    }
}
