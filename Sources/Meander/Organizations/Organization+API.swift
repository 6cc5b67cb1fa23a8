import Foundation

extension Components.Schemas.Organization {
    /// The API view of an organisation with its settings.
    init(_ model: Organization) throws {
        let kind: Components.Schemas.OrganizationKind =
            switch model.kind {
            case .national: .national
            case .regional: .regional
            case .local: .local
            }
        let status: Components.Schemas.OrganizationStatus =
            switch model.status {
            case .active: .active
            case .suspended: .suspended
            }
        self.init(
            id: try model.requireID().uuidString.lowercased(),
            name: model.name,
            kind: kind,
            parentId: model.$parent.id?.uuidString.lowercased(),
            orgNumber: model.orgNumber,
            status: status,
            settings: Components.Schemas.OrganizationSettings(model))
    }
}

extension Components.Schemas.OrganizationSettings {
    /// Every setting, as stored.
    init(_ model: Organization) {
        let rateKind: MileageRateKindPayload =
            switch model.mileageRateKind {
            case .state: .state
            case .taxFree: .taxFree
            }
        self.init(
            mileageRateKind: rateKind,
            expenseAutoApprovalLimitOre: model.expenseAutoApprovalLimitOre.map(Int64.init),
            enabledProducts: model.enabledProducts.compactMap { EnabledProductsPayloadPayload(rawValue: $0.rawValue) },
            evidenceActivityTypeKeys: model.evidenceActivityTypeKeys)
    }
}
